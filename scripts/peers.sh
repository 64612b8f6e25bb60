# Real peers for why401's tests and benchmarks, on loopback: nginx (auth_basic), Apache httpd
# (mod_auth_digest, mod_auth_basic), squid (proxy_auth) and pyspnego's NTLM acceptor; curl and
# Chromium as clients; slapd, Redis and PostgreSQL for the gateway. Sourced, not run:
#
#   source scripts/peers.sh
#   peers_install          # Debian packages and pyspnego, when missing
#   peers_start DIR        # configs, logs and pids under DIR; exports WHY401_*_URL
#   peers_stop DIR
#
# Every server is started with its own configuration in DIR, so nothing on the machine changes.

peers_install() {
  local apt=()
  command -v curl >/dev/null || apt+=(curl)
  command -v openssl >/dev/null || apt+=(openssl)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || apt+=(nginx)
  [ -x /usr/sbin/apache2 ] || apt+=(apache2)
  command -v htpasswd >/dev/null || apt+=(apache2-utils)
  [ -x /usr/sbin/squid ] || apt+=(squid)
  [ -f /usr/lib/apache2/modules/mod_auth_gssapi.so ] || apt+=(libapache2-mod-auth-gssapi)
  [ -f /etc/gss/mech.d/mech.ntlmssp.conf ] || apt+=(gss-ntlmssp)
  [ -x /usr/sbin/dnsmasq ] || apt+=(dnsmasq-base)
  [ -x /usr/sbin/krb5kdc ] || apt+=(krb5-kdc)
  [ -x /usr/sbin/kadmin.local ] || apt+=(krb5-admin-server)
  command -v kinit >/dev/null || apt+=(krb5-user)
  command -v faketime >/dev/null || apt+=(faketime)
  command -v hyperfine >/dev/null || apt+=(hyperfine)
  command -v chromium >/dev/null || apt+=(chromium)
  command -v caddy >/dev/null || apt+=(caddy)
  command -v npm >/dev/null || apt+=(nodejs npm)
  # The gateway's directory (OpenLDAP) and its shared stores (Redis, PostgreSQL).
  [ -x /usr/sbin/slapd ] || apt+=(slapd)
  command -v ldapsearch >/dev/null || apt+=(ldap-utils)
  command -v redis-server >/dev/null || apt+=(redis-server)
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || apt+=(postgresql)
  if ((${#apt[@]})); then
    echo "installing ${apt[*]}"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt[@]}" >/dev/null
  fi
  if ! python3 -c 'import spnego' 2>/dev/null; then
    echo "installing pyspnego"
    python3 -m pip install -q pyspnego
  fi
  if ! python3 -c 'import requests' 2>/dev/null; then
    echo "installing requests (Python), an API client of the gateway's tests"
    python3 -m pip install -q requests
  fi
  if ! python3 -c 'import crossplane' 2>/dev/null; then
    echo "installing crossplane (NGINX's config parser, the oracle for lint's)"
    python3 -m pip install -q crossplane
  fi
  # evtx_dump (the evtx crate's CLI) is the oracle for event counts and the events benchmark's
  # baseline; cargo builds it from crates.io.
  if ! command -v evtx_dump >/dev/null; then
    echo "installing evtx_dump (cargo install evtx)"
    cargo install --quiet --locked evtx --version 0.15.1 || return 1
  fi
  # playwright-core drives Debian's Chromium to record HARs and NetLogs (it downloads no browser).
  local capture
  capture="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/capture"
  if [ ! -d "$capture/node_modules/playwright-core" ]; then
    echo "installing playwright-core (npm) for the browser captures"
    (cd "$capture" && npm install --no-audit --no-fund --silent) || return 1
  fi
}

# A free TCP port on loopback.
peers_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until something accepts on 127.0.0.1:$1, or fails after ~10 s.
peers_wait() {
  local port=$1 name=$2
  for _ in $(seq 1 100); do
    if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$port)))" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "error: $name did not start on port $port" >&2
  return 1
}

# The part every Apache instance of the suite shares: its own root, pid, runtime dir and error
# log under ROOT, and the modules named (mod_NAME.so). Usage: apache_head ROOT ERRORLOG NAME...
apache_head() {
  local root=$1 errorlog=$2; shift 2
  printf '%s\n' "ServerRoot $root" "ServerName localhost" "PidFile $root/apache.pid" \
    "DefaultRuntimeDir $root" "Mutex file:$root default" "ErrorLog $errorlog" "LogLevel info" \
    "User www-data" "Group www-data"
  local m
  for m in "$@"; do
    echo "LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so"
  done
}

# A lint fixture with its placeholders filled in: SRC DST PORT DIR WWW (@PORT@, @DIR@: where the
# user files are, @WWW@: the document root copy).
lint_fixture() {
  sed "s|@WWW@|$5|g; s|@DIR@|$4|g; s|@PORT@|$3|g" "$1" > "$2"
}

peers_start() {
  local dir=$1
  mkdir -p "$dir/www/basic" "$dir/www/digest" "$dir/nginx-tmp"
  # Workers run as unprivileged users: they must read the configs and documents.
  chmod 755 "$dir" "$dir/www" "$dir/www/basic" "$dir/www/digest"
  echo "ok" > "$dir/www/basic/index.html"
  echo "ok" > "$dir/www/digest/index.html"
  echo "ok" > "$dir/www/index.html"
  chmod 644 "$dir"/www/index.html "$dir"/www/*/index.html

  # nginx: auth_basic with an htpasswd file (bcrypt), plus a bare `return 401`; a second
  # server with logs of its own, for the log-analysis tests.
  local nginx_port; nginx_port=$(peers_free_port)
  local nginx_logs_port; nginx_logs_port=$(peers_free_port)
  htpasswd -bcB "$dir/htpasswd" alice s3cret >/dev/null 2>&1
  htpasswd -bB "$dir/htpasswd" bob hunter2 >/dev/null 2>&1
  chmod 644 "$dir/htpasswd"
  cat > "$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log info;
events { worker_connections 256; }
http {
  access_log $dir/nginx-access.log;
  client_body_temp_path $dir/nginx-tmp;
  proxy_temp_path $dir/nginx-tmp;
  fastcgi_temp_path $dir/nginx-tmp;
  uwsgi_temp_path $dir/nginx-tmp;
  scgi_temp_path $dir/nginx-tmp;
  server {
    listen 127.0.0.1:$nginx_port;
    root $dir/www;
    location /basic/ {
      auth_basic "nginx lab";
      auth_basic_user_file $dir/htpasswd;
    }
    location = /no-challenge { return 401; }
  }
  server {
    listen 127.0.0.1:$nginx_logs_port;
    root $dir/www;
    access_log $dir/nginx-logtest-access.log;
    error_log $dir/nginx-logtest-error.log info;
    location /basic/ {
      auth_basic "nginx lab";
      auth_basic_user_file $dir/htpasswd;
    }
  }
}
EOF
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log"
  peers_wait "$nginx_port" nginx || return 1
  export WHY401_NGINX_URL="http://127.0.0.1:$nginx_port"
  peers_wait "$nginx_logs_port" "nginx (logs)" || return 1
  export WHY401_NGINX_LOGTEST_URL="http://127.0.0.1:$nginx_logs_port"
  export WHY401_NGINX_LOGTEST_LOGS="$dir/nginx-logtest-access.log $dir/nginx-logtest-error.log"

  # nginx serving why401 lint's fixtures (crates/why401/tests/fixtures/lint/nginx): each mistake
  # on one port, the same paths fixed on another (TLS), so that the tests show the symptom each
  # rule predicts and its absence once fixed.
  local lint_bad_port; lint_bad_port=$(peers_free_port)
  local lint_good_port; lint_good_port=$(peers_free_port)
  local lint_fixtures; lint_fixtures="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/crates/why401/tests/fixtures/lint"
  mkdir -p "$dir/lint" "$dir/www/nofile" "$dir/www/open"
  echo ok > "$dir/www/nofile/index.html"
  echo ok > "$dir/www/open/index.html"
  chmod 755 "$dir/www/nofile" "$dir/www/open"
  chmod 644 "$dir/www/nofile/index.html" "$dir/www/open/index.html"
  openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 2 \
    -keyout "$dir/lint/key.pem" -out "$dir/lint/cert.pem" >/dev/null 2>&1
  lint_fixture "$lint_fixtures/nginx/bad.conf" "$dir/lint/bad.conf" "$lint_bad_port" "$dir" ""
  lint_fixture "$lint_fixtures/nginx/good.conf" "$dir/lint/good.conf" "$lint_good_port" "$dir" ""
  cat > "$dir/lint/nginx.conf" <<EOF
worker_processes 1;
pid $dir/lint/nginx.pid;
error_log $dir/lint/error.log info;
events { worker_connections 64; }
http {
  access_log $dir/lint/access.log;
  client_body_temp_path $dir/nginx-tmp;
  proxy_temp_path $dir/nginx-tmp;
  fastcgi_temp_path $dir/nginx-tmp;
  uwsgi_temp_path $dir/nginx-tmp;
  scgi_temp_path $dir/nginx-tmp;
  include $dir/lint/bad.conf;
  include $dir/lint/good.conf;
}
EOF
  chmod 755 "$dir/lint"
  chmod 644 "$dir"/lint/*.conf "$dir/lint/cert.pem" "$dir/lint/key.pem"
  nginx -p "$dir/lint" -c "$dir/lint/nginx.conf" -e "$dir/lint/error.log"
  peers_wait "$lint_bad_port" "nginx (lint fixtures)" || return 1
  export WHY401_LINT_NGINX_CONF="$dir/lint/nginx.conf" \
    WHY401_LINT_BAD_URL="http://127.0.0.1:$lint_bad_port" \
    WHY401_LINT_GOOD_URL="https://127.0.0.1:$lint_good_port"

  # Apache serving why401 lint's Apache fixtures (crates/why401/tests/fixtures/lint/apache): the
  # mistakes on one port, fixed on another, over a copy of the fixture's www/ tree (.htaccess
  # files included).
  local lint_apache_bad; lint_apache_bad=$(peers_free_port)
  local lint_apache_good; lint_apache_good=$(peers_free_port)
  local www="$dir/lint/apache/www"
  mkdir -p "$dir/lint/apache"
  cp -r "$lint_fixtures/apache/www" "$www"
  find "$www" -name .htaccess -exec sed -i "s|@DIR@|$dir|g" {} +
  lint_fixture "$lint_fixtures/apache/bad.conf" "$dir/lint/apache/bad.conf" "$lint_apache_bad" "$dir" "$www"
  lint_fixture "$lint_fixtures/apache/good.conf" "$dir/lint/apache/good.conf" "$lint_apache_good" "$dir" "$www"
  apache_head "$dir/lint/apache" "$dir/lint/apache/error.log" mpm_event authn_core authn_file \
    authz_core authz_user authz_host access_compat auth_basic auth_digest dir socache_shmcb ssl \
    > "$dir/lint/apache/apache.conf"
  printf 'Include %s\nInclude %s\n' "$dir/lint/apache/bad.conf" "$dir/lint/apache/good.conf" \
    >> "$dir/lint/apache/apache.conf"
  chmod -R a+rX "$dir/lint/apache"
  apache2 -f "$dir/lint/apache/apache.conf" -k start
  peers_wait "$lint_apache_bad" "Apache (lint fixtures)" || return 1
  export WHY401_LINT_APACHE_CONF="$dir/lint/apache/apache.conf" \
    WHY401_LINT_APACHE_BAD_URL="http://127.0.0.1:$lint_apache_bad" \
    WHY401_LINT_APACHE_GOOD_URL="https://127.0.0.1:$lint_apache_good"

  # Apache httpd: mod_auth_digest (MD5, as Apache implements it), and mod_auth_basic on a
  # second port with logs of its own, for the log-analysis tests.
  local apache_port; apache_port=$(peers_free_port)
  local apache_logs_port; apache_logs_port=$(peers_free_port)
  local ha1; ha1=$(printf '%s' 'alice:apache-lab:s3cret' | md5sum | cut -d' ' -f1)
  echo "alice:apache-lab:$ha1" > "$dir/htdigest"
  chmod 644 "$dir/htdigest"
  apache_head "$dir" "$dir/apache-error.log" mpm_event authn_core authn_file authz_core \
    authz_user auth_basic auth_digest dir > "$dir/apache.conf"
  cat >> "$dir/apache.conf" <<EOF
Listen 127.0.0.1:$apache_port
Listen 127.0.0.1:$apache_logs_port
LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined
CustomLog $dir/apache-access.log combined
DocumentRoot $dir/www
DirectoryIndex index.html
<Directory $dir/www>
  Require all granted
</Directory>
<Location /digest/>
  AuthType Digest
  AuthName "apache-lab"
  AuthDigestProvider file
  AuthUserFile $dir/htdigest
  Require valid-user
</Location>
<VirtualHost 127.0.0.1:$apache_logs_port>
  ErrorLog $dir/apache-logtest-error.log
  CustomLog $dir/apache-logtest-access.log combined
  <Location /basic/>
    AuthType Basic
    AuthName "apache-lab"
    AuthBasicProvider file
    AuthUserFile $dir/htpasswd
    Require valid-user
  </Location>
</VirtualHost>
EOF
  apache2 -f "$dir/apache.conf" -k start
  peers_wait "$apache_port" "apache httpd" || return 1
  export WHY401_APACHE_URL="http://127.0.0.1:$apache_port"
  peers_wait "$apache_logs_port" "apache httpd (logs)" || return 1
  export WHY401_APACHE_LOGTEST_URL="http://127.0.0.1:$apache_logs_port"
  export WHY401_APACHE_LOGTEST_LOGS="$dir/apache-logtest-access.log $dir/apache-logtest-error.log"

  # squid: a forward proxy that wants Basic proxy credentials.
  local squid_port; squid_port=$(peers_free_port)
  htpasswd -bc "$dir/squid-passwd" proxyuser proxypass >/dev/null 2>&1
  chmod 644 "$dir/squid-passwd"
  mkdir -p "$dir/squid"
  chmod 777 "$dir/squid"
  cat > "$dir/squid.conf" <<EOF
http_port 127.0.0.1:$squid_port
auth_param basic program /usr/lib/squid/basic_ncsa_auth $dir/squid-passwd
auth_param basic realm squid-lab
acl authed proxy_auth REQUIRED
http_access allow authed
http_access deny all
pid_filename $dir/squid/squid.pid
access_log stdio:$dir/squid/access.log
cache_log $dir/squid/cache.log
cache deny all
cache_mem 8 MB
coredump_dir $dir/squid
shutdown_lifetime 0 seconds
EOF
  (squid -f "$dir/squid.conf" -N >"$dir/squid/stdout.log" 2>&1 &)
  peers_wait "$squid_port" squid || return 1
  export WHY401_SQUID_URL="http://127.0.0.1:$squid_port"

  # pyspnego's NTLM acceptor.
  local ntlm_port; ntlm_port=$(peers_free_port)
  echo "CORP:alice:s3cret" > "$dir/ntlm-users.txt"
  (NTLM_USER_FILE="$dir/ntlm-users.txt" python3 "$(dirname "${BASH_SOURCE[0]}")/peers/ntlm_server.py" "$ntlm_port" \
      >"$dir/ntlm-server.log" 2>&1 & echo $! > "$dir/ntlm-server.pid")
  peers_wait "$ntlm_port" "pyspnego NTLM server" || return 1
  export WHY401_PYSPNEGO_URL="http://127.0.0.1:$ntlm_port"

  # pyspnego's Negotiate (SPNEGO) acceptor: checks the mechListMIC as Windows does.
  local nego_port; nego_port=$(peers_free_port)
  (NTLM_USER_FILE="$dir/ntlm-users.txt" python3 "$(dirname "${BASH_SOURCE[0]}")/peers/ntlm_server.py" "$nego_port" negotiate \
      >"$dir/negotiate-server.log" 2>&1 & echo $! > "$dir/negotiate-server.pid")
  peers_wait "$nego_port" "pyspnego Negotiate server" || return 1
  export WHY401_PYSPNEGO_NEGOTIATE_URL="http://127.0.0.1:$nego_port"

  # A throwaway MIT Kerberos realm, LAB.TEST, on loopback: a KDC (TCP), alice (password s3cret,
  # pre-authentication required as Active Directory does), and HTTP/web.lab.test with a keytab
  # for Apache. Everything lives in $dir/krb5 and goes with it.
  local kdc_port; kdc_port=$(peers_free_port)
  mkdir -p "$dir/krb5"
  cat > "$dir/krb5/krb5.conf" <<EOF
[libdefaults]
  default_realm = LAB.TEST
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
[realms]
  LAB.TEST = {
    kdc = 127.0.0.1:$kdc_port
  }
EOF
  cat > "$dir/krb5/kdc.conf" <<EOF
[kdcdefaults]
  kdc_ports = $kdc_port
  kdc_tcp_ports = $kdc_port
[realms]
  LAB.TEST = {
    database_name = $dir/krb5/principal
    key_stash_file = $dir/krb5/stash
    acl_file = $dir/krb5/kadm5.acl
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }
[logging]
  kdc = FILE:$dir/krb5/kdc.log
EOF
  (
    export KRB5_CONFIG="$dir/krb5/krb5.conf" KRB5_KDC_PROFILE="$dir/krb5/kdc.conf"
    kdb5_util create -s -r LAB.TEST -P "why401-master-$RANDOM" >"$dir/krb5/create.log" 2>&1
    kadmin.local -q "addprinc +requires_preauth -pw s3cret alice" >/dev/null 2>&1
    # carol's only key is aes256-sha2 (RFC 8009), which the probe's sspi client does not offer
    # (no pre-authentication, so the KDC judges the enctypes before anything else).
    kadmin.local -q "addprinc -e aes256-cts-hmac-sha384-192:normal -pw s3cret carol" >/dev/null 2>&1
    # web is trusted for delegation; alias.lab.test has a principal but is a CNAME of host.lab.test,
    # which has none.
    kadmin.local -q "addprinc -randkey +ok_as_delegate HTTP/web.lab.test" >/dev/null 2>&1
    kadmin.local -q "addprinc -randkey HTTP/alias.lab.test" >/dev/null 2>&1
    kadmin.local -q "ktadd -k $dir/krb5/http.keytab HTTP/web.lab.test HTTP/alias.lab.test" >/dev/null 2>&1
    # stale.lab.test: the keytab Apache holds is kvno 2, then the principal is re-keyed (kvno 3).
    kadmin.local -q "addprinc -randkey HTTP/stale.lab.test" >/dev/null 2>&1
    kadmin.local -q "ktadd -k $dir/krb5/http.keytab HTTP/stale.lab.test" >/dev/null 2>&1
    kadmin.local -q "cpw -randkey HTTP/stale.lab.test" >/dev/null 2>&1
    # farm.lab.test: two backends; the second kept the keytab from before a re-key.
    kadmin.local -q "addprinc -randkey HTTP/farm.lab.test" >/dev/null 2>&1
    kadmin.local -q "ktadd -k $dir/krb5/farm-stale.keytab HTTP/farm.lab.test" >/dev/null 2>&1
    kadmin.local -q "ktadd -k $dir/krb5/farm-good.keytab HTTP/farm.lab.test" >/dev/null 2>&1
    krb5kdc -n -P "$dir/krb5/kdc.pid" >"$dir/krb5/kdc.stdout" 2>&1 &
  )
  chmod 755 "$dir/krb5"
  chmod 644 "$dir"/krb5/*.keytab
  peers_wait "$kdc_port" "MIT krb5kdc" || return 1
  export WHY401_KRB5_CONFIG="$dir/krb5/krb5.conf" WHY401_KRB5_KEYTAB="$dir/krb5/http.keytab"

  # The same realm's KDC again, its clock 10 minutes ahead (libfaketime): KRB_AP_ERR_SKEW.
  local skew_port; skew_port=$(peers_free_port)
  sed "s/127.0.0.1:$kdc_port/127.0.0.1:$skew_port/" "$dir/krb5/krb5.conf" > "$dir/krb5/krb5-skew.conf"
  sed "s/= $kdc_port\$/= $skew_port/; s#kdc = FILE:.*#kdc = FILE:$dir/krb5/kdc-skew.log#" \
    "$dir/krb5/kdc.conf" > "$dir/krb5/kdc-skew.conf"
  (
    export KRB5_CONFIG="$dir/krb5/krb5-skew.conf" KRB5_KDC_PROFILE="$dir/krb5/kdc-skew.conf"
    faketime -f "+10m" krb5kdc -n -P "$dir/krb5/kdc-skew.pid" >"$dir/krb5/kdc-skew.stdout" 2>&1 &
  )
  peers_wait "$skew_port" "MIT krb5kdc (clock +10 min)" || return 1
  export WHY401_KRB5_CONFIG_SKEW="$dir/krb5/krb5-skew.conf"

  # Apache httpd with mod_auth_gssapi and gss-ntlmssp: Negotiate (SPNEGO) carrying NTLM through
  # MIT's GSSAPI, as a Linux intranet server does it. An instance of its own, because
  # gss-ntlmssp reads its users from the process environment (NTLM_USER_FILE).
  local gss_port; gss_port=$(peers_free_port)
  mkdir -p "$dir/gss/www/negotiate"
  echo "hello from mod_auth_gssapi" > "$dir/gss/www/negotiate/index.html"
  cp "$dir/ntlm-users.txt" "$dir/gss/users.txt"
  chmod 755 "$dir/gss" "$dir/gss/www" "$dir/gss/www/negotiate"
  chmod 644 "$dir/gss/users.txt" "$dir/gss/www/negotiate/index.html"
  apache_head "$dir/gss" "$dir/gss/error.log" mpm_event authn_core authz_core authz_user \
    auth_gssapi dir > "$dir/gss/apache.conf"
  mkdir -p "$dir/gss/deleg"
  chmod 1777 "$dir/gss/deleg"
  cat >> "$dir/gss/apache.conf" <<EOF
Listen 127.0.0.1:$gss_port
Listen 127.0.0.2:$gss_port
DocumentRoot $dir/gss/www
DirectoryIndex index.html
<Location /negotiate/>
  AuthType GSSAPI
  AuthName "GSSAPI NTLM"
  GssapiAllowedMech ntlmssp
  GssapiConnectionBound On
  Require valid-user
</Location>
<Location /krb/>
  AuthType GSSAPI
  AuthName "Kerberos"
  GssapiCredStore keytab:$dir/krb5/http.keytab
  GssapiAllowedMech krb5
  GssapiDelegCcacheDir $dir/gss/deleg
  Require valid-user
</Location>
# farm.lab.test: one name, two backends; 127.0.0.2 holds a keytab from before the re-key.
<VirtualHost 127.0.0.1:$gss_port>
  ServerName farm.lab.test
  <Location /farm/>
    AuthType GSSAPI
    AuthName "Kerberos farm"
    GssapiCredStore keytab:$dir/krb5/farm-good.keytab
    GssapiAllowedMech krb5
    Require valid-user
  </Location>
</VirtualHost>
<VirtualHost 127.0.0.2:$gss_port>
  ServerName farm.lab.test
  <Location /farm/>
    AuthType GSSAPI
    AuthName "Kerberos farm"
    GssapiCredStore keytab:$dir/krb5/farm-stale.keytab
    GssapiAllowedMech krb5
    Require valid-user
  </Location>
</VirtualHost>
EOF
  mkdir -p "$dir/gss/www/krb" "$dir/gss/www/farm"
  echo "hello from Kerberos" > "$dir/gss/www/krb/index.html"
  echo "hello from the farm" > "$dir/gss/www/farm/index.html"
  chmod 755 "$dir/gss/www/krb" "$dir/gss/www/farm"
  chmod 644 "$dir/gss/www/krb/index.html" "$dir/gss/www/farm/index.html"
  NTLM_USER_FILE="$dir/gss/users.txt" KRB5_CONFIG="$dir/krb5/krb5.conf" \
      apache2 -f "$dir/gss/apache.conf" -k start
  peers_wait "$gss_port" "Apache mod_auth_gssapi" || return 1
  export WHY401_APACHE_GSSAPI_URL="http://127.0.0.1:$gss_port" WHY401_GSS_DELEG_DIR="$dir/gss/deleg"

  # dnsmasq: a resolver of our own for --dns-server, with a farm behind one name (two loopback
  # addresses) and an alias (CNAME) pointing at it.
  local dns_port; dns_port=$(peers_free_port)
  dnsmasq --keep-in-foreground --conf-file=/dev/null --pid-file="$dir/dnsmasq.pid" \
      --port="$dns_port" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
      --host-record=farm.test,127.0.0.1 --host-record=farm.test,127.0.0.2 \
      --cname=alias.test,farm.test \
      --host-record=web.lab.test,127.0.0.1 --cname=www.lab.test,web.lab.test \
      --host-record=host.lab.test,127.0.0.1 --cname=alias.lab.test,host.lab.test \
      --host-record=kdc.lab.test,127.0.0.1 --srv-host="_kerberos._tcp.LAB.TEST,kdc.lab.test,$kdc_port" \
      --address=/rdns.lab.test/127.0.0.2 \
      --log-facility="$dir/dnsmasq.log" &
  peers_wait "$dns_port" dnsmasq || return 1  # it answers over TCP on the same port
  export WHY401_DNSMASQ="127.0.0.1:$dns_port"

  peers_start_stores "$dir" || return 1
}

# Redis and PostgreSQL for the gateway's shared stores: started once, on loopback, with their
# data in DIR. Tests take a Redis database number and a PostgreSQL database of their own.
peers_start_stores() {
  local dir=$1 durable=${2:-}
  # The tests' PostgreSQL skips fsync (their data is thrown away); `durable` keeps it, for the
  # benchmark's figures.
  local fsync="-c fsync=off"
  [ "$durable" = durable ] && fsync=""
  local redis_port; redis_port=$(peers_free_port)
  mkdir -p "$dir/redis"
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$dir/redis" --save "" --appendonly no \
      --daemonize yes --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" >/dev/null
  peers_wait "$redis_port" redis-server || return 1
  export WHY401_REDIS_URL="redis://127.0.0.1:$redis_port"

  # PostgreSQL refuses to run as root: its cluster belongs to the postgres user.
  local pg_port; pg_port=$(peers_free_port)
  local pgbin; pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chmod 755 "$dir"
    as=(runuser -u postgres --)
  fi
  mkdir -p "$dir/pg"
  [ "$(id -u)" = 0 ] && chown postgres "$dir/pg"
  "${as[@]}" "$pgbin/initdb" -D "$dir/pg/data" -A trust -U postgres >"$dir/pg/initdb.log" 2>&1 || {
    cat "$dir/pg/initdb.log" >&2; return 1; }
  "${as[@]}" "$pgbin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/postgres.log" -w \
      -o "-p $pg_port -k $dir/pg -c listen_addresses=127.0.0.1 $fsync -c max_connections=300" start >/dev/null || {
    cat "$dir/pg/postgres.log" >&2; return 1; }
  export WHY401_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
  echo "redis on $WHY401_REDIS_URL, postgresql on $WHY401_POSTGRES_URL"
}

peers_stop_stores() {
  local dir=$1
  [ -f "$dir/redis/redis.pid" ] && kill "$(cat "$dir/redis/redis.pid")" 2>/dev/null
  if [ -d "$dir/pg/data" ]; then
    local pgbin; pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    local as=()
    [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
    "${as[@]}" "$pgbin/pg_ctl" -D "$dir/pg/data" -m fast stop >/dev/null 2>&1
  fi
  true
}

peers_stop() {
  local dir=$1
  [ -f "$dir/nginx.pid" ] && nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" -s stop 2>/dev/null
  [ -f "$dir/lint/nginx.pid" ] && nginx -p "$dir/lint" -c "$dir/lint/nginx.conf" -e "$dir/lint/error.log" -s stop 2>/dev/null
  [ -f "$dir/apache.pid" ] && apache2 -f "$dir/apache.conf" -k stop 2>/dev/null
  [ -f "$dir/squid/squid.pid" ] && kill "$(cat "$dir/squid/squid.pid")" 2>/dev/null
  [ -f "$dir/ntlm-server.pid" ] && kill "$(cat "$dir/ntlm-server.pid")" 2>/dev/null
  [ -f "$dir/negotiate-server.pid" ] && kill "$(cat "$dir/negotiate-server.pid")" 2>/dev/null
  [ -f "$dir/gss/apache.pid" ] && apache2 -f "$dir/gss/apache.conf" -k stop 2>/dev/null
  [ -f "$dir/lint/apache/apache.pid" ] && apache2 -f "$dir/lint/apache/apache.conf" -k stop 2>/dev/null
  [ -f "$dir/dnsmasq.pid" ] && kill "$(cat "$dir/dnsmasq.pid")" 2>/dev/null
  [ -f "$dir/krb5/kdc.pid" ] && kill "$(cat "$dir/krb5/kdc.pid")" 2>/dev/null
  [ -f "$dir/krb5/kdc-skew.pid" ] && kill "$(cat "$dir/krb5/kdc-skew.pid")" 2>/dev/null
  peers_stop_stores "$dir"
  true
}
