# SPDX-License-Identifier: GPL-2.0
# Shared by the vmtest scripts: the cache layout and a project-local apt.
# Sourced, not executed.
# shellcheck shell=bash

AQUEUE_CACHE=${AQUEUE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aqueue}
VMTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
TOP_DIR=$(cd "$VMTEST_DIR/../.." && pwd)
# The kernel lanes, from tools/vmtest/kernels (Debian 11's and 12's
# kernels by series, Debian 13's 6.12 and the newest 7.x of
# trixie-backports and of unstable by their suite), and those of them that
# .ci/run makes light. The Makefile's KERNELS is read from here too.
lanes() {
	awk -v want="${1:-}" '!/^#/ && NF && (want == "" || $2 == want) {
		printf "%s%s", sep, $1; sep = " " }' "$VMTEST_DIR/kernels"
}
# shellcheck disable=SC2034 # used by the scripts that source this file
SUPPORTED_SERIES=$(lanes)
# shellcheck disable=SC2034 # used by .ci/run
LIGHT_SERIES=$(lanes light)

die() {
	echo "vmtest: $*" >&2
	exit 1
}

log() {
	echo "vmtest: $*" >&2
}

# The mirror URIs come from the machine's own apt configuration so that no
# host name lives in this repository; our lists and state stay in the cache
# so the system's apt setup is never touched.
apt_setup() {
	local aptdir=$AQUEUE_CACHE/apt main_uri sec_uri stamp

	mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial"
	main_uri=$(debian_mirror)
	# shellcheck disable=SC2016 # apt's own $(FIELD) format, not the shell's
	sec_uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' |
		awk '$2 ~ /-security$/ { print $1; exit }')
	[ -n "$sec_uri" ] || sec_uri=${main_uri%/}-security/

	local kr=/usr/share/keyrings/debian-archive-keyring.gpg
	cat >"$aptdir/sources.list.new" <<-EOF
		deb [signed-by=$kr] $main_uri bullseye main
		deb [signed-by=$kr] $sec_uri bullseye-security main
		deb [signed-by=$kr] $main_uri bookworm main
		deb [signed-by=$kr] $main_uri bookworm-backports main
		deb [signed-by=$kr] $sec_uri bookworm-security main
		deb [signed-by=$kr] $main_uri trixie main
		deb [signed-by=$kr] $main_uri trixie-backports main
		deb [signed-by=$kr] $main_uri unstable main
	EOF
	if ! cmp -s "$aptdir/sources.list.new" "$aptdir/sources.list"; then
		mv "$aptdir/sources.list.new" "$aptdir/sources.list"
		rm -f "$aptdir/updated"
	else
		rm -f "$aptdir/sources.list.new"
	fi

	# Suites with a Valid-Until (unstable) are still read when the
	# mirror's copy has expired: a mirror that lags is not an error.
	APT_OPTS=(-o "Dir::Etc::SourceList=$aptdir/sources.list"
		-o "Dir::Etc::SourceParts=/dev/null"
		-o "Dir::State::Lists=$aptdir/lists"
		-o "Dir::Cache::Archives=$aptdir/archives"
		-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
		-o "APT::Architecture=amd64" -o "APT::Sandbox::User=root"
		-o "Acquire::Check-Valid-Until=false")

	# Refresh the lists at most once a day: old ABIs leave the mirror, so
	# a stale list names packages that can no longer be downloaded.
	stamp=$aptdir/updated
	if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
		log "updating the project-local apt lists"
		apt-get "${APT_OPTS[@]}" -qq update >&2 ||
			die "apt-get update failed (is the Debian mirror reachable?)"
		touch "$stamp"
	fi
}

# The mirror the machine's apt reads the main archive from, for debootstrap.
debian_mirror() {
	local uri
	# shellcheck disable=SC2016 # apt's own $(FIELD) format, not the shell's
	uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' |
		awk '$2 !~ /-/ { print $1; exit }')
	[ -n "$uri" ] || die "no Debian mirror found in the apt sources (run apt-get update first)"
	echo "$uri"
}

# in_build_root ROOT DIR COMMAND...: runs COMMAND in DIR inside the build
# root ROOT (tools/vmtest/build-root), with the cache mounted at its own
# path so that the paths fetch-kernel wrote into the headers resolve there
# too, and /proc for objtool. The mounts live in a mount namespace of their
# own and vanish with it.
in_build_root() {
	local root=$1 dir=$2
	shift 2
	mkdir -p "$root$AQUEUE_CACHE" "$root/proc"
	# shellcheck disable=SC2016 # the inner shell expands them
	unshare --mount --propagation private -- /bin/sh -euc '
		root=$1 cache=$2 dir=$3
		shift 3
		mount --bind "$cache" "$root$cache"
		mount -t proc proc "$root/proc"
		exec chroot "$root" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$dir" "$@"
	' sh "$root" "$AQUEUE_CACHE" "$dir" "$@"
}

apt_cache() {
	apt-cache "${APT_OPTS[@]}" "$@"
}

# The kselftest framework, checkpatch and extract-vmlinux come from Debian's
# linux-source package, unpacked once into the cache.
KSRC_MEMBERS="tools/testing/selftests/kselftest_harness.h
tools/testing/selftests/kselftest.h
tools/testing/selftests/lib.mk
tools/testing/selftests/run_kselftest.sh
tools/testing/selftests/kselftest
scripts/checkpatch.pl
scripts/spelling.txt
scripts/const_structs.checkpatch
scripts/extract-vmlinux
scripts/subarch.include"

linux_source_tree() {
	local tarball dir
	# shellcheck disable=SC2012 # Debian's file names; ls prints nothing when none matches
	tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)
	[ -n "$tarball" ] || die "Debian's linux-source package is not installed (apt-get install linux-source-6.1)"
	dir=$AQUEUE_CACHE/$(basename "$tarball" .tar.xz)
	if [ ! -e "$dir/.complete" ] || [ "$tarball" -nt "$dir/.complete" ]; then
		log "unpacking the kselftest framework and checkpatch from $tarball"
		rm -rf "$dir"
		mkdir -p "$dir"
		local top members=()
		top=$(basename "$tarball" .tar.xz)
		for m in $KSRC_MEMBERS; do members+=("$top/$m"); done
		tar -xJf "$tarball" -C "$AQUEUE_CACHE" "${members[@]}" ||
			die "cannot unpack $tarball"
		touch "$dir/.complete"
	fi
	echo "$dir"
}
