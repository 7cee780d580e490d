#!/bin/sh
# Build an AppImage of SeqBox Studio.
#
#   packaging/appimage/build-appimage.sh            # from the repository root
#
# Needs `appimagetool` on PATH (https://github.com/AppImage/appimagetool/releases; it is not in
# Debian). Without it the script still assembles target/appimage/SeqBoxStudio.AppDir, which
# can be checked by hand or run with ./AppRun.
#
# Nothing besides the binary is bundled: it links only libc, and winit/wgpu open the host's
# X11/Wayland/EGL/GL/Vulkan libraries at run time (bundling Mesa would break on other hosts).
set -eu
cd "$(dirname "$0")/../.."
ID=io.github.seqbox.SeqBoxStudio
APPDIR=target/appimage/SeqBoxStudio.AppDir

cargo build --release --locked
rm -rf "$APPDIR"
mkdir -p "$APPDIR/usr/bin" "$APPDIR/usr/share/applications" "$APPDIR/usr/share/metainfo" \
         "$APPDIR/usr/share/icons/hicolor/256x256/apps"
install -m 755 target/release/seqbox "$APPDIR/usr/bin/seqbox"
install -m 644 packaging/linux/$ID.desktop "$APPDIR/usr/share/applications/$ID.desktop"
install -m 644 packaging/linux/$ID.metainfo.xml "$APPDIR/usr/share/metainfo/$ID.appdata.xml"
install -m 644 assets/icon-256.png "$APPDIR/usr/share/icons/hicolor/256x256/apps/$ID.png"
# appimagetool wants the desktop entry and the icon at the top of the AppDir too.
cp packaging/linux/$ID.desktop "$APPDIR/$ID.desktop"
cp assets/icon-256.png "$APPDIR/$ID.png"
cat > "$APPDIR/AppRun" <<'RUN'
#!/bin/sh
HERE="$(dirname "$(readlink -f "$0")")"
exec "$HERE/usr/bin/seqbox" "$@"
RUN
chmod 755 "$APPDIR/AppRun"

if command -v appimagetool >/dev/null 2>&1; then
    ARCH=x86_64 appimagetool "$APPDIR" target/appimage/SeqBoxStudio-x86_64.AppImage
    echo "built target/appimage/SeqBoxStudio-x86_64.AppImage"
else
    echo "assembled $APPDIR; install appimagetool to turn it into an AppImage" >&2
fi
