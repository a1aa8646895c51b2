#!/usr/bin/env bash
# Builds Meseta's Debian packages into target/debian/:
#   meseta-mesos        mesos-master, mesos-agent (and mesos-slave), the containerizer and
#                       executors, mesos-execute, agentctl, meseta-run; mesos-master.service,
#                       mesos-slave.service (alias mesos-agent.service); /etc/mesos* defaults
#   meseta-marathon     marathon and marathon.service        (if the workspace builds it)
#   meseta-chronos      chronos and chronos.service          (if the workspace builds it)
#   meseta-marathon-lb  marathon-lb and marathon-lb.service  (needs haproxy)
# One package per role, as Mesosphere shipped mesos, marathon and chronos apart: a master node
# installs what it runs, and each package depends only on what its programs need.
#
# dpkg-deb is driven directly (no cargo-deb): the packages gather binaries of several crates
# and conffiles, units and a wrapper of their own, which cargo-deb's one-crate model fits badly,
# and dpkg-deb and dpkg-shlibdeps are already on every Debian machine.
#
# Usage: scripts/package.sh [--debug] [--version X.Y.Z]
#   --debug   package the (stripped) debug build instead of building release binaries (tests)
#   --fast    compress with gzip -1 instead of xz (tests)
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
compress="-Zxz"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
while [ $# -gt 0 ]; do
    case "$1" in
        --debug) profile=debug ;;
        --fast) compress="-Zgzip -z1" ;;
        --version) version="$2"; shift ;;
        *) echo "package.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

if [ "$profile" = release ]; then
    cargo build --release --workspace --bins
fi
bin="target/$profile"
out=target/debian
stage="$out/stage"
rm -rf "$stage"
mkdir -p "$stage" "$out"
arch="$(dpkg --print-architecture)"
maintainer="Meseta developers <meseta@users.noreply.github.com>"

# stage PKG: the package's root.
root() { echo "$stage/$1"; }

install_bin() { # PKG DEST_DIR BIN...
    local pkg="$1" dest="$2"; shift 2
    mkdir -p "$(root "$pkg")$dest"
    for b in "$@"; do
        [ -x "$bin/$b" ] || { echo "package.sh: $bin/$b is missing" >&2; exit 1; }
        install -m 0755 "$bin/$b" "$(root "$pkg")$dest/$b"
        strip --strip-unneeded "$(root "$pkg")$dest/$b"
    done
}

docs() { # PKG BIN... : copyright, changelog, README.Debian and each program's --help
    local pkg="$1"; shift
    local d; d="$(root "$pkg")/usr/share/doc/$pkg"
    mkdir -p "$d"
    install -m 0644 packaging/copyright "$d/copyright"
    printf '%s (%s) unstable; urgency=medium\n\n  * Built from the Meseta workspace.\n\n -- %s  %s\n' \
        "$pkg" "$version" "$maintainer" "$(date -R -u -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")" \
        | gzip -9n > "$d/changelog.gz"
    install -m 0644 "packaging/README.Debian.$pkg" "$d/README.Debian"
    for b in "$@"; do
        "$bin/$b" --help > "$d/$b.help.txt" 2>&1 || true
        gzip -9n "$d/$b.help.txt"
    done
}

unit() { # PKG UNIT...
    local pkg="$1"; shift
    mkdir -p "$(root "$pkg")/lib/systemd/system"
    for u in "$@"; do
        install -m 0644 "packaging/systemd/$u" "$(root "$pkg")/lib/systemd/system/$u"
    done
}

conffile() { # PKG SOURCE DEST [MODE]
    local pkg="$1" src="$2" dest="$3" mode="${4:-0644}"
    mkdir -p "$(dirname "$(root "$pkg")$dest")"
    install -m "$mode" "$src" "$(root "$pkg")$dest"
    echo "$dest" >> "$stage/$pkg.conffiles"
}

text_conffile() { # PKG DEST TEXT
    local tmp; tmp="$(mktemp)"
    printf '%s\n' "$3" > "$tmp"
    conffile "$1" "$tmp" "$2"
    rm -f "$tmp"
}

shlibs() { # PKG: the Depends dpkg-shlibdeps computes for the package's ELF files
    local pkg="$1" work; work="$(mktemp -d)"
    mkdir -p "$work/debian"
    printf 'Source: meseta\n\nPackage: %s\nArchitecture: any\n' "$pkg" > "$work/debian/control"
    local files; files="$(find "$(pwd)/$(root "$pkg")" -type f -perm -u+x -exec sh -c 'head -c4 "$1" | grep -q ELF && echo "$1"' _ {} \;)"
    (cd "$work" && dpkg-shlibdeps -O $(for f in $files; do printf -- '-e%s ' "$f"; done) 2>/dev/null) \
        | sed -n 's/^shlibs:Depends=//p'
    rm -rf "$work"
}

build() { # PKG "DEPENDS-EXTRA" "RECOMMENDS" "DESCRIPTION"
    local pkg="$1" extra="$2" recommends="$3" desc="$4"
    local r; r="$(root "$pkg")"
    mkdir -p "$r/DEBIAN"
    local depends; depends="$(shlibs "$pkg")"
    [ -n "$extra" ] && depends="$depends, $extra"
    {
        echo "Package: $pkg"
        echo "Version: $version"
        echo "Architecture: $arch"
        echo "Maintainer: $maintainer"
        echo "Installed-Size: $(du -sk --exclude=DEBIAN "$r" | cut -f1)"
        echo "Depends: $depends"
        [ -n "$recommends" ] && echo "Recommends: $recommends"
        echo "Section: admin"
        echo "Priority: optional"
        echo "Homepage: https://github.com/meseta/meseta"
        echo "Description: $desc"
        sed 's/^/ /' "packaging/description.$pkg"
    } > "$r/DEBIAN/control"
    [ -f "$stage/$pkg.conffiles" ] && install -m 0644 "$stage/$pkg.conffiles" "$r/DEBIAN/conffiles"
    for s in postinst prerm postrm; do
        [ -f "packaging/$pkg.$s" ] && install -m 0755 "packaging/$pkg.$s" "$r/DEBIAN/$s"
    done
    local deb="$out/${pkg}_${version}_${arch}.deb"
    dpkg-deb --root-owner-group $compress --build "$r" "$deb" >/dev/null
    echo "$deb"
}

# --- meseta-mesos ---
p=meseta-mesos
install_bin $p /usr/libexec/mesos mesos-master mesos-agent mesos-containerizer mesos-executor mesos-docker-executor
install_bin $p /usr/bin mesos-execute agentctl meseta-run
mkdir -p "$(root $p)/usr/sbin"
# The agent finds mesos-containerizer and the executors beside its own (resolved) binary.
ln -s ../libexec/mesos/mesos-master "$(root $p)/usr/sbin/mesos-master"
ln -s ../libexec/mesos/mesos-agent "$(root $p)/usr/sbin/mesos-agent"
ln -s ../libexec/mesos/mesos-agent "$(root $p)/usr/sbin/mesos-slave"
install -m 0755 packaging/mesos-init-wrapper "$(root $p)/usr/sbin/mesos-init-wrapper"
unit $p mesos-master.service mesos-slave.service
ln -s mesos-slave.service "$(root $p)/lib/systemd/system/mesos-agent.service"
text_conffile $p /etc/mesos/zk "zk://localhost:2181/mesos"
text_conffile $p /etc/mesos-master/work_dir "/var/lib/mesos"
text_conffile $p /etc/mesos-master/quorum "1"
text_conffile $p /etc/mesos-slave/work_dir "/var/lib/mesos"
conffile $p packaging/default/mesos /etc/default/mesos
conffile $p packaging/default/mesos-master /etc/default/mesos-master
conffile $p packaging/default/mesos-slave /etc/default/mesos-slave
docs $p mesos-master mesos-agent mesos-containerizer mesos-executor mesos-docker-executor mesos-execute agentctl meseta-run
build $p "" "docker.io" "Apache Mesos master and agent, rebuilt in Rust (Meseta)"

# --- frameworks: packaged when the workspace has them ---
framework() { # PKG BIN EXTRA-DEPENDS RECOMMENDS DESCRIPTION
    local pkg="$1" b="$2"
    if [ ! -x "$bin/$b" ]; then
        echo "package.sh: $bin/$b not built; skipping $pkg" >&2
        return
    fi
    install_bin "$pkg" /usr/bin "$b"
    unit "$pkg" "$b.service"
    conffile "$pkg" "packaging/default/$b" "/etc/default/$b"
    docs "$pkg" "$b"
    build "$pkg" "$3" "$4" "$5"
}
framework meseta-marathon marathon "" "" "Marathon-compatible scheduler for long-running services on Mesos (Meseta)"
framework meseta-chronos chronos "" "" "Chronos-compatible scheduler for periodic and dependent jobs on Mesos (Meseta)"
framework meseta-marathon-lb marathon-lb "haproxy (>= 2.4)" "" "HAProxy load balancing for Marathon apps, compatible with marathon-lb (Meseta)"

# The staging trees are only inputs of dpkg-deb: the packages are in $out.
rm -rf "$stage"
