#!/bin/sh
# Throwaway certificates for TLSListenerTests, made in DIR with the openssl CLI (EC P-256, valid one day):
# for each NAME given, a CA NAME-ca.pem and a server certificate NAME.pem (CN NAME, SAN IP 127.0.0.1) with
# its key NAME-key.pem.
set -e
cd "$1"; shift
for name in "$@"; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=$name test CA" \
    -keyout "$name-ca-key.pem" -out "$name-ca.pem" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
    -keyout "$name-key.pem" -out "$name.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$name-ca.pem" -CAkey "$name-ca-key.pem" -CAcreateserial -days 1 \
    -extfile "$name.ext" -out "$name.pem" 2>/dev/null
done
