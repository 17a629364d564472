#!/bin/sh
# Builds Loft and runs it on its embedded demo configuration, in the foreground:
# IMAP on 127.0.0.1:10143, POP3 on 127.0.0.1:10110, LMTP on 127.0.0.1:10024 (demo / demo).
set -eu
cd "$(dirname "$0")/.."
sh contrib/install-deps.sh build
[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure -q
make -j"$(nproc)" -s
exec ./loftd -F --demo "$@"
