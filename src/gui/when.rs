//! Dates for people: a time in the computer's local time zone, written the way people read
//! it ("Mon 30 Nov 2026, 14:05"). The offset comes from the C library (`localtime_r`, which
//! reads the zone once and is thread-safe); never touches a file itself.

/// `secs` (since 1970, UTC) in local time, e.g. "Mon 30 Nov 2026, 14:05".
pub fn local(secs: i64) -> String {
    readable(secs, utc_offset(secs))
}

/// `secs` shifted by `offset` seconds east of UTC, as "Mon 30 Nov 2026, 14:05".
pub fn readable(secs: i64, offset: i64) -> String {
    let t = secs + offset;
    let days = t.div_euclid(86_400);
    let rem = t.rem_euclid(86_400);
    let (y, m, d) = crate::engine::info::civil_from_days(days);
    // 1970-01-01 was a Thursday.
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize];
    format!(
        "{wd} {d} {mon} {y}, {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Seconds east of UTC of the local time zone at `secs` (0 where it cannot be known).
#[cfg(unix)]
fn utc_offset(secs: i64) -> i64 {
    let t = secs as libc::time_t;
    // SAFETY: localtime_r only writes the `tm` we own; `t` lives across the call.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return 0;
    }
    tm.tm_gmtoff as i64
}

#[cfg(not(unix))]
fn utc_offset(_secs: i64) -> i64 {
    0
}

#[cfg(test)]
mod tests {
    use super::readable;

    #[test]
    fn dates_read_like_a_calendar() {
        assert_eq!(readable(0, 0), "Thu 1 Jan 1970, 00:00");
        // 2026-11-30 08:55 UTC, shown one hour east.
        assert_eq!(readable(1_796_028_900, 3600), "Mon 30 Nov 2026, 09:55");
        assert_eq!(readable(951_782_400, 0), "Tue 29 Feb 2000, 00:00");
    }
}
