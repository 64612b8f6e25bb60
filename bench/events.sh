#!/usr/bin/env bash
# why401 logs on Windows event logs against evtx_dump (the evtx crate's own CLI) on the same
# files, with the same threads, in the same run; and the joined run of an IIS log with event
# logs against the two runs apart.
#
# The .evtx set is made of real chunks: every chunk of the public Security samples in
# ../shared/fixtures/evtx, repeated behind a real file header (chunk count, last chunk number
# and header CRC32 fixed), up to SIZE_MB. The IIS log is why401-loggen's, the same size.
# Usage: bash bench/events.sh [SIZE_MB]        (default 1024; results in target/bench/events.md)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-1024}
fixtures=../shared/fixtures/evtx
[ -d "$fixtures" ] || { echo "$fixtures is needed (the public .evtx samples)"; exit 1; }
for tool in hyperfine evtx_dump; do
  command -v $tool >/dev/null || { echo "$tool is needed (scripts/test.sh installs the peers)"; exit 1; }
done
cargo build --release --locked -q
w=./target/release/why401
out=target/bench/events
mkdir -p "$out"

python3 - "$fixtures" "$out/big.evtx" "$size_mb" <<'PY'
import struct, sys, zlib, pathlib
src, dst, size = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]) << 20
CHUNK, HEAD = 65536, 4096
chunks, header = [], None
for p in sorted(src.glob("*ecurity*.evtx")):
    b = p.read_bytes()
    if not b.startswith(b"ElfFile\0"):
        continue
    header = header or bytearray(b[:HEAD])
    for off in range(HEAD, len(b) - CHUNK + 1, CHUNK):
        c = b[off:off + CHUNK]
        if c.startswith(b"ElfChnk\0"):
            chunks.append(c)
n = max(1, min(65535, (size - HEAD) // CHUNK))
struct.pack_into("<Q", header, 8, 0)          # first chunk number
struct.pack_into("<Q", header, 16, n - 1)     # last chunk number
struct.pack_into("<H", header, 42, n)         # number of chunks
struct.pack_into("<I", header, 120, 0)        # flags: clean
struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])))
with open(dst, "wb") as f:
    f.write(header)
    for i in range(n):
        f.write(chunks[i % len(chunks)])
print(f"{dst}: {n} chunks ({len(chunks)} distinct real ones)", file=sys.stderr)
PY

cargo build --release --locked -q -p why401-loggen
./target/release/why401-loggen --format iis --size "${size_mb}M" --out "$out/u_ex.log" --truth "$out/truth.json"
ls -la "$out"/big.evtx "$out"/u_ex.log

rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }
{
  echo "| run | peak RSS (KB) |"
  echo "|---|---|"
  echo "| why401 logs big.evtx | $(rss $w logs "$out/big.evtx" --json) |"
  echo "| evtx_dump -o jsonl big.evtx | $(rss evtx_dump -o jsonl -t 0 "$out/big.evtx") |"
  echo "| why401 logs u_ex.log big.evtx | $(rss $w logs "$out/u_ex.log" "$out/big.evtx" --json) |"
} > "$out/rss.md"
cat "$out/rss.md"
hyperfine -N -i --warmup 1 --runs 3 \
  --export-markdown target/bench/events.md --export-json target/bench/events.json \
  -n "why401 logs (evtx)" "$w logs $out/big.evtx --json" \
  -n "evtx_dump -o jsonl" "evtx_dump -o jsonl -t 0 $out/big.evtx" \
  -n "why401 logs (IIS)" "$w logs $out/u_ex.log --json" \
  -n "why401 logs (IIS + evtx)" "$w logs $out/u_ex.log $out/big.evtx --json"
python3 - <<'PY'
import json
r = {x["command"]: x["mean"] for x in json.load(open("target/bench/events.json"))["results"]}
o, d = r["why401 logs (evtx)"], r["evtx_dump -o jsonl"]
print(f"evtx: why401 {o:.2f} s, evtx_dump {d:.2f} s: {d/o:.2f}x")
apart = r["why401 logs (evtx)"] + r["why401 logs (IIS)"]
joined = r["why401 logs (IIS + evtx)"]
print(f"joined {joined:.2f} s vs apart {apart:.2f} s: {joined/apart:.2f}x")
PY
