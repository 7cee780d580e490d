#!/bin/sh
# (Re)generate the seed corpora in fuzz/seeds/TARGET/ (or in the folder given).
#
#   fuzz/seeds.sh            # the committed seeds (small: well under 1 MB)
#   fuzz/seeds.sh /tmp/big   # the same plus bigger inputs, into another folder
#
# Containers, images, rs_repair recipes and catalogues are written by the targets
# themselves (each target's start-up writes its seeds when SEQBOX_FUZZ_WRITE_SEEDS is set),
# so they always match the code; the SBX vectors come from tests/data; the ext4 images are
# built here with mke2fs + debugfs (e2fsprogs), with a fixed UUID, hash seed and clock so
# they come out the same every time.
set -eu
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
OUT=${1:-seeds}
BIG=$([ "$OUT" = seeds ] && echo no || echo yes)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# ext4 images: 256 KiB file systems holding every shape the reader knows (an extent tree
# with an index block, a hard link, a symlink, a sparse file, an htree directory, inline
# data), in the feature variants of tests/common/ext4img.rs.
PATH=$PATH:/usr/sbin:/sbin
command -v mke2fs >/dev/null || { echo "seeds.sh: mke2fs not found (apt-get install e2fsprogs)" >&2; exit 1; }
export E2FSPROGS_FAKE_TIME=1700000000 E2FSCK_TIME=1700000000
UUID=01234567-89ab-cdef-0123-456789abcdef
mkdir -p "$OUT/ext4"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pattern() { head -c "$2" /dev/zero | tr '\0' "$1" >"$work/$3"; }

# ext4_image NAME SIZE MKE2FS-ARGS...
ext4_image() {
  name=$1 size=$2
  shift 2
  img="$OUT/ext4/$name.img"
  mke2fs -q -F -U "$UUID" -E "hash_seed=$UUID" "$@" "$img" "$size" >/dev/null 2>&1
  {
    echo "set_current_time 20231114221320"
    echo "mkdir /pad"
    for i in 0 1 2 3 4 5 6 7 8 9 10 11; do
      pattern a 2048 "p$i"
      echo "write $work/p$i /pad/p$i"
    done
    for i in 0 2 4 6 8 10; do echo "rm /pad/p$i"; done
    # 12 KiB into 2 KiB gaps: more than four extents, so the tree needs an index block.
    pattern b 12300 big
    echo "write $work/big /big.bin"
    pattern c 6 small
    echo "write $work/small /small.txt"
    echo "mkdir /d"
    echo "mkdir /d/e"
    pattern d 3000 a
    echo "write $work/a /d/e/a.bin"
    echo "ln /d/e/a.bin /d/link.bin"
    echo "sif /d/e/a.bin links_count 2"
    echo "symlink /d/sym /big.bin"
    pattern e 1024 s
    echo "write $work/s /sparse.bin"
    echo "sif /sparse.bin size 40000"
    echo "mkdir /many"
    for i in $(seq 1 40); do echo "write $work/small /many/a-longish-file-name-$i.txt"; done
  } >"$work/cmds"
  debugfs -w -f "$work/cmds" "$img" >/dev/null 2>&1
  # Directories become htrees where the file system indexes them.
  e2fsck -fyD "$img" >/dev/null 2>&1 || true
  e2fsck -fn "$img" >/dev/null 2>&1 || { echo "seeds.sh: $name is not clean" >&2; exit 1; }
}

ext4_image e4_1k 256K -t ext4 -b 1024 -O ^has_journal
ext4_image e4_inline 256K -t ext4 -b 1024 -O ^has_journal,inline_data -I 256
ext4_image e4_noextent 256K -t ext4 -b 1024 -O ^has_journal,^extent,^64bit
ext4_image e4_4k 512K -t ext4 -b 4096 -O ^has_journal
ext4_image e2_1k 256K -t ext2 -b 1024
# NTFS: a 1 MiB volume with 512-byte clusters holding a resident file and two non-resident
# ones, made with mkntfs + ntfscp (ntfs-3g). mkntfs takes its serial number from the clock.
command -v mkntfs >/dev/null || { echo "seeds.sh: mkntfs not found (apt-get install ntfs-3g)" >&2; exit 1; }
mkdir -p "$OUT/ntfs"
img="$OUT/ntfs/n_512.img"
rm -f "$img"
truncate -s 1028K "$img"
mkntfs -F -Q -q -c 512 -L SEED "$img" >/dev/null 2>&1
pattern f 6 small
pattern g 3000 a
pattern h 40000 big
ntfscp "$img" "$work/small" /small.txt
ntfscp "$img" "$work/a" /a.bin
ntfscp "$img" "$work/big" /big.bin

if [ "$BIG" = yes ]; then
  ext4_image e3_journal 4M -t ext3 -b 1024
  ext4_image e4_journal 4M -t ext4 -b 1024
fi
# FAT12 images (FAT16/32 need megabytes): fragmented files, a folder, long names, a deleted
# file. mtools stamps files with their source's time: fixed with touch; fixed volume id.
command -v mkfs.fat >/dev/null || { echo "seeds.sh: mkfs.fat not found (apt-get install dosfstools mtools)" >&2; exit 1; }
mkdir -p "$OUT/fat"
fat_image() {
  name=$1 kib=$2 spc=$3
  img="$OUT/fat/$name.img"
  rm -f "$img"
  mkfs.fat -F 12 -s "$spc" -i 1234ABCD -n SEEDS -C "$img" "$kib" >/dev/null
  for i in 0 1 2 3 4 5; do
    pattern a 1500 "f$i"
    touch -d @1700000000 "$work/f$i"
    MTOOLS_SKIP_CHECK=1 mcopy -m -i "$img" "$work/f$i" "::/f$i"
  done
  MTOOLS_SKIP_CHECK=1 mdel -i "$img" ::/f1 ::/f3
  MTOOLS_SKIP_CHECK=1 mmd -i "$img" "::/A folder"
  pattern b 5000 big
  touch -d @1700000000 "$work/big"
  MTOOLS_SKIP_CHECK=1 mcopy -m -i "$img" "$work/big" "::/A folder/A long file name.bin"
  MTOOLS_SKIP_CHECK=1 mdel -i "$img" ::/f5
  fsck.fat -n "$img" >/dev/null || { echo "seeds.sh: $name is not clean" >&2; exit 1; }
}
fat_image fat12_512 128 1
fat_image fat12_2k 256 4

# The targets write the rest (the ext4 target builds the images above into its binary, as
# bases for its patch-list inputs: so they come first).
cargo fuzz build >/dev/null
for t in block_header container_decode scan rs_repair catalog_open ext4 fat; do
  [ "$t" = ext4 ] || [ "$t" = fat ] || rm -rf "${OUT:?}/$t"
  SEQBOX_FUZZ_WRITE_SEEDS="$OUT" cargo fuzz run "$t" -- -runs=0 2>&1 | grep 'seed(s) written' || {
    echo "seeds.sh: $t wrote no seeds" >&2
    exit 1
  }
done

# The interop vectors (original SeqBox and blkar containers), the small ones.
limit=$([ "$BIG" = yes ] && echo 4096k || echo 128k)
find ../tests/data -type f \( -name '*.sbx' -o -name '*.ecsbx' \) -size -"$limit" \
  -exec cp {} "$OUT/container_decode/" \;
# Every input the targets found (tests/data/fuzz/TARGET/), as seeds of its target.
for d in ../tests/data/fuzz/*/; do
  t=$(basename "$d")
  [ -d "$OUT/$t" ] && find "$d" -type f -exec cp {} "$OUT/$t/" \;
done
du -sh "$OUT"/*
