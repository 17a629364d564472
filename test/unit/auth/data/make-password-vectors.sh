#!/bin/sh
# Regenerates password-vectors.txt from the installed Dovecot's `doveadm pw`, so the scheme
# tests can check Loft against Dovecot-made hashes on machines without Dovecot.
# PLAIN-TRUNC is left out: Dovecot makes "{PLAIN-TRUNC}pass" but then rejects it itself.
# Line format (tab-separated): SCHEME USER PASSWORD HASH
set -eu
schemes="PLAIN CLEAR CLEARTEXT CRYPT DES-CRYPT MD5 MD5-CRYPT SHA256-CRYPT SHA512-CRYPT
BLF-CRYPT SHA SHA1 SHA256 SHA512 SMD5 SSHA SSHA256 SSHA512 PLAIN-MD4 PLAIN-MD5 LDAP-MD5
CRAM-MD5 HMAC-MD5 DIGEST-MD5 SCRAM-SHA-1 SCRAM-SHA-256 PBKDF2 ARGON2I ARGON2ID OTP
SSHA.HEX SHA256.HEX SHA.B64 PLAIN-MD5.BASE64 LDAP-MD5.HEX SSHA512.HEX"
long=$(printf 'x%.0s' $(seq 1 100))
echo "# Made by make-password-vectors.sh with $(dpkg-query -W -f='dovecot-core ${Version}' dovecot-core 2>/dev/null || echo doveadm)"
for scheme in $schemes; do
    for user in alice@example.com bob; do
        for password in secret 'pässwörd' "$long"; do
            hash=$(doveadm pw -s "$scheme" -u "$user" -p "$password")
            printf '%s\t%s\t%s\t%s\n' "$scheme" "$user" "$password" "$hash"
        done
    done
done
# Rounds other than the default (cost for bcrypt, iterations for the others).
for spec in SHA256-CRYPT:6000 SHA512-CRYPT:6000 BLF-CRYPT:6 PBKDF2:6000 SCRAM-SHA-1:6000; do
    scheme=${spec%%:*}
    hash=$(doveadm pw -s "$scheme" -r "${spec#*:}" -u bob -p secret)
    printf '%s\t%s\t%s\t%s\n' "$scheme" bob secret "$hash"
done
