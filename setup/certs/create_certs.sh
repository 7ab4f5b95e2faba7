#!/usr/bin/env bash
# Setup's certificate step (tls and cluster profiles): the one-shot `certs` service runs it as root on the
# Elasticsearch image at every `make up`. It keeps a CA in CA_DIR and the instances' PEM certificates in
# CERTS_DIR (elasticsearch-certutil's --pem zip layout: ca/ca.crt, <name>/<name>.crt, <name>/<name>.key;
# x-pack/plugin/security/cli/.../CertificateTool.java), and runs elasticsearch-certutil only when
# something is missing, changed or about to expire.
set -euo pipefail

# The image's JDK has keytool; after the existing PATH so a keytool already on it wins.
PATH="$PATH:/usr/share/elasticsearch/jdk/bin"

CERTS_DIR=${CERTS_DIR:-/certs}
CA_DIR=${CA_DIR:-/certs-ca}
CERT_INSTANCES_FILE=${CERT_INSTANCES_FILE:-}
CA_DAYS=${CA_DAYS:-3650}
CERT_DAYS=${CERT_DAYS:-1095}
CERT_RENEW_DAYS=${CERT_RENEW_DAYS:-30}

MAX_DAYS=36500
# The ES, Kibana and Logstash images all run as uid 1000, gid 0.
SERVICE_OWNER=1000:0
CA_CERT="$CA_DIR/ca/ca.crt"
CA_KEY="$CA_DIR/ca/ca.key"
# A copy of the instances file, written last by a finished generation.
RECORD="$CERTS_DIR/instances.yml"

STAGING_DIRS=()
INSTANCES=()
REASON=""
KEPT=()

fail() {
    echo "create_certs: $*" >&2
    exit 2
}

cleanup() {
    if ((${#STAGING_DIRS[@]} > 0)); then
        rm -rf -- "${STAGING_DIRS[@]}"
    fi
}
trap cleanup EXIT

require_days() { # NAME MIN MAX
    local name=$1 min=$2 max=$3 value=${!1}
    # No leading zeros: bash arithmetic would read them as octal.
    [[ $value =~ ^(0|[1-9][0-9]{0,5})$ ]] || fail "$name must be a whole number of days, got '$value'"
    ((value >= min && value <= max)) || fail "$name must be between $min and $max days, got $value"
}

validate_settings() {
    [[ -n $CERT_INSTANCES_FILE ]] || fail "CERT_INSTANCES_FILE must name the instances file (setup/certs/instances/<profile>.yml)"
    [[ -f $CERT_INSTANCES_FILE && -r $CERT_INSTANCES_FILE ]] ||
        fail "CERT_INSTANCES_FILE ($CERT_INSTANCES_FILE) is not a readable file"
    require_days CA_DAYS 1 "$MAX_DAYS"
    require_days CERT_DAYS 1 "$MAX_DAYS"
    require_days CERT_RENEW_DAYS 0 "$((MAX_DAYS - 1))"
    ((CERT_RENEW_DAYS < CERT_DAYS)) ||
        fail "CERT_RENEW_DAYS ($CERT_RENEW_DAYS) must be less than CERT_DAYS ($CERT_DAYS), or every run renews the certificates"
    ((CERT_RENEW_DAYS < CA_DAYS)) ||
        fail "CERT_RENEW_DAYS ($CERT_RENEW_DAYS) must be less than CA_DAYS ($CA_DAYS), or every run renews the CA"
    local tool
    for tool in elasticsearch-certutil keytool unzip; do
        command -v "$tool" >/dev/null || fail "$tool is not on PATH ($PATH)"
    done
}

# The instance names of a certutil --in file (instances: a list of name/dns/ip), one a line. Only the block
# style is read; a name must be usable as a file name as it is (certutil refuses "ca" as an instance name).
instance_names() { # FILE
    local file=$1 line name
    local -A seen=()
    grep -Eq '^instances:[[:space:]]*$' "$file" || fail "$file has no top-level 'instances:' list"
    ! grep -q '{' "$file" || fail "$file: flow mappings ({...}) are not read; write each instance as '- name: <name>'"
    ! grep -Eq '^[[:space:]-]*filename:' "$file" ||
        fail "$file: 'filename:' is not supported: an instance's files are named after it (<name>/<name>.crt)"
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line =~ ^[[:space:]]*(-[[:space:]]+)?name:[[:space:]]*(.*)$ ]] || continue
        name=${BASH_REMATCH[2]}
        name=${name%%[[:space:]]#*}
        name=${name%"${name##*[![:space:]]}"}
        [[ $name =~ ^\"(.*)\"$ || $name =~ ^\'(.*)\'$ ]] && name=${BASH_REMATCH[1]}
        [[ $name =~ ^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$ ]] ||
            fail "$file: instance name '$name' must be 1 to 64 of A-Z a-z 0-9 . _ - and not start with a dot"
        [[ $name != ca ]] || fail "$file: 'ca' may not be an instance name (ca/ holds the CA certificate)"
        [[ -z ${seen[$name]:-} ]] || fail "$file: instance '$name' is listed twice"
        seen[$name]=1
        echo "$name"
    done <"$file"
    ((${#seen[@]} > 0)) || fail "$file lists no instances (expected '- name: <name>' entries under 'instances:')"
}

# A certificate's notAfter as seconds since the epoch, read by keytool in English and UTC.
cert_end() { # FILE
    local printed until
    printed=$(keytool -J-Duser.language=en -J-Duser.country=US -J-Duser.timezone=UTC -printcert -file "$1" 2>/dev/null) ||
        return 1
    # One "Valid from: ... until: ..." line (keytool's Resources.java); bash, not sed: the image may lack it.
    [[ $printed =~ (^|$'\n')"Valid from: "[^$'\n']*" until: "([^$'\n']+)($'\n'|$) ]] || return 1
    until=${BASH_REMATCH[2]}
    [[ $printed != *"until: "*"until: "* ]] || return 1
    date -u -d "$until" +%s
}

# Byte-equal files. sha256sum is coreutils; the image has no diffutils, hence no cmp.
same_file() { # A B
    [[ -f $1 && -f $2 ]] || return 1
    local a b
    a=$(sha256sum <"$1") && b=$(sha256sum <"$2") && [[ $a == "$b" ]]
}

iso_date() { # EPOCH
    date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}

# Sets REASON to why the CA must be made, or to "" with KEPT holding the kept line.
ca_reason() {
    local end
    REASON="" KEPT=()
    if [[ ! -s $CA_CERT || ! -s $CA_KEY ]]; then
        REASON="$CA_DIR holds none"
    elif ! end=$(cert_end "$CA_CERT"); then
        REASON="$CA_CERT cannot be read"
    elif ((end <= RENEW_BY)); then
        REASON="it expires within $CERT_RENEW_DAYS days (on $(iso_date "$end"))"
    else
        KEPT=("CA: kept, valid until $(iso_date "$end")")
    fi
}

# Sets REASON to why the instances' certificates must be made, or to "" with KEPT holding a line each.
nodes_reason() { # CA_MADE(yes|no)
    local name file end
    REASON="" KEPT=()
    if [[ $1 == yes ]]; then
        REASON="the CA was generated"
        return
    fi
    if ! same_file "$CA_CERT" "$CERTS_DIR/ca/ca.crt"; then
        REASON="$CERTS_DIR/ca/ca.crt is missing or is not the CA's certificate"
        return
    fi
    if [[ ! -f $RECORD ]]; then
        REASON="no finished generation recorded its instances file"
        return
    fi
    if ! same_file "$CERT_INSTANCES_FILE" "$RECORD"; then
        REASON="$CERT_INSTANCES_FILE differs from the one of the last generation"
        return
    fi
    for name in "${INSTANCES[@]}"; do
        for file in "$name/$name.crt" "$name/$name.key"; do
            if [[ ! -s $CERTS_DIR/$file ]]; then
                REASON="$file is missing or empty"
                return
            fi
        done
        if ! end=$(cert_end "$CERTS_DIR/$name/$name.crt"); then
            REASON="$name/$name.crt cannot be read"
            return
        fi
        if ((end <= RENEW_BY)); then
            REASON="$name/$name.crt expires within $CERT_RENEW_DAYS days (on $(iso_date "$end"))"
            return
        fi
        KEPT+=("$name: kept, valid until $(iso_date "$end")")
    done
}

new_staging_dir() { # PARENT; sets STAGING
    STAGING=$(mktemp -d "$1/.staging.XXXXXX")
    STAGING_DIRS+=("$STAGING")
}

# Files certutil's zip must hold, each checked before anything is moved.
require_unzipped() { # DIR FILE...
    local dir=$1 file
    shift
    for file in "$@"; do
        [[ -s $dir/$file ]] || fail "elasticsearch-certutil's zip lacks $file; nothing was changed"
    done
}

run_certutil() { # ARGS...
    local status=0
    elasticsearch-certutil "$@" || status=$?
    if ((status != 0)); then
        echo "create_certs: elasticsearch-certutil $1 failed (exit $status); nothing was changed" >&2
        exit 1
    fi
}

make_ca() {
    new_staging_dir "$CA_DIR"
    run_certutil ca --silent --pem --days "$CA_DAYS" --out "$STAGING/ca.zip"
    unzip -q "$STAGING/ca.zip" -d "$STAGING/unzipped"
    require_unzipped "$STAGING/unzipped" ca/ca.crt ca/ca.key
    chmod 0700 "$STAGING/unzipped/ca"
    chmod 0644 "$STAGING/unzipped/ca/ca.crt"
    chmod 0400 "$STAGING/unzipped/ca/ca.key"
    if ((EUID == 0)); then
        chown -R 0:0 "$STAGING/unzipped/ca"
    fi
    # Certificate and key move together as one directory; a crash between these two leaves no CA,
    # which the next run makes again.
    rm -rf -- "$CA_DIR/ca"
    mv -- "$STAGING/unzipped/ca" "$CA_DIR/ca"
}

set_service_mode() { # MODE PATH...
    local mode=$1
    shift
    chmod "$mode" "$@"
    if ((EUID == 0)); then
        chown "$SERVICE_OWNER" "$@"
    fi
}

publish_file() { # STAGED DEST_DIR
    if [[ ! -d $2 ]]; then
        mkdir -- "$2"
        set_service_mode 0755 "$2"
    fi
    mv -f -- "$1" "$2/"
}

make_node_certs() {
    local name staged old_names
    new_staging_dir "$CERTS_DIR"
    run_certutil cert --silent --pem --in "$CERT_INSTANCES_FILE" --ca-cert "$CA_CERT" --ca-key "$CA_KEY" \
        --days "$CERT_DAYS" --out "$STAGING/certs.zip"
    staged="$STAGING/unzipped"
    unzip -q "$STAGING/certs.zip" -d "$staged"
    mkdir -p -- "$staged/ca"
    cp -- "$CA_CERT" "$staged/ca/ca.crt"
    set_service_mode 0644 "$staged/ca/ca.crt"
    for name in "${INSTANCES[@]}"; do
        require_unzipped "$staged" "$name/$name.crt" "$name/$name.key"
        set_service_mode 0644 "$staged/$name/$name.crt"
        set_service_mode 0440 "$staged/$name/$name.key"
    done
    cp -- "$CERT_INSTANCES_FILE" "$STAGING/instances.yml"
    set_service_mode 0644 "$STAGING/instances.yml"

    old_names=""
    if [[ -f $RECORD ]]; then
        old_names=$(instance_names "$RECORD" 2>/dev/null) || old_names=""
    fi
    # From here the certificates change file by file: without the record, an interrupted run is redone.
    rm -f -- "$RECORD"
    set_service_mode 0755 "$CERTS_DIR"
    publish_file "$staged/ca/ca.crt" "$CERTS_DIR/ca"
    for name in "${INSTANCES[@]}"; do
        publish_file "$staged/$name/$name.crt" "$CERTS_DIR/$name"
        publish_file "$staged/$name/$name.key" "$CERTS_DIR/$name"
    done
    for name in $old_names; do
        if [[ " ${INSTANCES[*]} " != *" $name "* ]]; then
            rm -rf -- "${CERTS_DIR:?}/$name"
            echo "$name: removed, because $CERT_INSTANCES_FILE no longer lists it"
        fi
    done
    mv -f -- "$STAGING/instances.yml" "$RECORD"
}

main() {
    local names joined ca_made=no
    validate_settings
    names=$(instance_names "$CERT_INSTANCES_FILE")
    mapfile -t INSTANCES <<<"$names"
    RENEW_BY=$(($(date -u +%s) + CERT_RENEW_DAYS * 86400))

    mkdir -p -- "$CERTS_DIR" "$CA_DIR"
    chmod 0700 "$CA_DIR"
    # Left by a run that was killed before its cleanup.
    rm -rf -- "$CA_DIR"/.staging.* "$CERTS_DIR"/.staging.*

    ca_reason
    if [[ -n $REASON ]]; then
        make_ca
        ca_made=yes
        echo "CA: generated, because $REASON"
    else
        printf '%s\n' "${KEPT[@]}"
    fi

    nodes_reason "$ca_made"
    if [[ -n $REASON ]]; then
        make_node_certs
        printf -v joined '%s, ' "${INSTANCES[@]}"
        echo "${joined%, }: generated, because $REASON"
    else
        printf '%s\n' "${KEPT[@]}"
    fi
}

main "$@"
