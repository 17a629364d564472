#!/bin/sh
# Installs the Debian 12 packages Loft needs to build ("build") or to build and run
# every test ("test"), including Dovecot as the reference the interop tests compare
# against. Dovecot's own service is not started by the install.
set -eu
what=${1:-build}
build_packages="autoconf automake libtool pkg-config g++ make thrift-compiler libthrift-dev libboost-dev
  libevent-dev libssl-dev libcppunit-dev libpam0g-dev libcrypt-dev libsqlite3-dev python3"
test_packages="dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-sqlite postfix openssl procps
  fail2ban sqlite3 libpam-wrapper"
packages=$build_packages
[ "$what" = test ] && packages="$build_packages $test_packages"

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "Missing Debian packages:$missing (run this script as root to install them)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix is a test peer (SMTP AUTH through Loft's auth socket), not this host's MTA.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
# Keep package scripts from starting Dovecot on the standard ports: it is only an
# oracle for the tests, which start their own instances.
policy=/usr/sbin/policy-rc.d
created_policy=no
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  created_policy=yes
fi
status=0
apt-get install -y -qq --no-install-recommends $missing >/dev/null || status=$?
[ "$created_policy" = yes ] && rm -f "$policy"
exit $status
