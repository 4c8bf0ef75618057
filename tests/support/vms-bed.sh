#!/usr/bin/env bash
# The vms provider's test bed: hosts that are network namespaces each running Debian's sshd, on a bridge.
# Run it inside the test's private network namespace (scripts/netns-run.sh): the bridge, the veths and
# the host namespaces then exist nowhere else, and nothing has a route out (the default route points at
# the unowned 10.250.0.254, so hosts have a default IPv4 address for ansible's facts and no way out).
#
#   vms-bed.sh up DIR PREFIX HOST...   HOST is N or N:MOD (host N gets 10.250.0.1N, hostname nodeN);
#                                      MOD: nopython (/usr/bin/python3 hidden), nosudo (sudo refuses),
#                                      down (no sshd: the address answers nothing)
#   vms-bed.sh down DIR                stops every sshd by pid, deletes the namespaces, veths and bridge
#
# up writes DIR/id_test (the key the hosts accept), DIR/id_wrong (a key they do not), and DIR/bed.env
# (PREFIX and the hosts, for down). Each host has its own UTS and mount namespace, /etc/hosts and a
# resolv.conf naming 127.0.0.1; the filesystem is the machine's (never run a playbook without --check
# on it). Needs root, iproute2, openssh-server, sudo.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,16p' "$0" >&2; exit 2; }

down() {
  [ -f "$dir/bed.env" ] || return 0
  # shellcheck disable=SC1091
  . "$dir/bed.env"
  for pidf in "$dir"/host*.pid; do
    [ -f "$pidf" ] || continue
    pid=$(cat "$pidf")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidf"
  done
  for i in $BED_HOSTS; do
    ip netns pids "${BED_PREFIX}h$i" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "${BED_PREFIX}h$i" 2>/dev/null || true
    ip link del "${BED_PREFIX}v$i" 2>/dev/null || true
    rm -rf "/etc/netns/${BED_PREFIX}h$i"
  done
  ip link del "${BED_PREFIX}br" 2>/dev/null || true
  rm -f "$dir/bed.env"
}

if [ "$cmd" = down ]; then
  down
  exit 0
fi
[ "$cmd" = up ] || { echo "vms-bed.sh: unknown command $cmd" >&2; exit 2; }
prefix=${3:?PREFIX}
shift 3
[ $# -gt 0 ] || { echo "vms-bed.sh up: no hosts" >&2; exit 2; }
command -v /usr/sbin/sshd >/dev/null || { echo "vms-bed.sh: /usr/sbin/sshd missing (apt-get install openssh-server)" >&2; exit 1; }

mkdir -p "$dir"
chmod 700 "$dir"
[ -f "$dir/id_test" ] || ssh-keygen -q -t ed25519 -N '' -C kurator-test -f "$dir/id_test"
[ -f "$dir/id_wrong" ] || ssh-keygen -q -t ed25519 -N '' -C kurator-wrong -f "$dir/id_wrong"
[ -f "$dir/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C kurator-host -f "$dir/host_key"
cp "$dir/id_test.pub" "$dir/authorized_keys"
chmod 600 "$dir/authorized_keys"
: >"$dir/empty"
printf '#!/bin/sh\necho "sudo: a password is required" >&2\nexit 1\n' >"$dir/fake-sudo"
chmod 755 "$dir/fake-sudo"
mkdir -p /run/sshd

hosts=()
for spec in "$@"; do hosts+=("${spec%%:*}"); done
printf 'BED_PREFIX=%s\nBED_HOSTS="%s"\n' "$prefix" "${hosts[*]}" >"$dir/bed.env"
trap 'down' ERR

ip link add "${prefix}br" type bridge
ip addr add 10.250.0.1/24 dev "${prefix}br"
ip link set "${prefix}br" up

for spec in "$@"; do
  i=${spec%%:*}
  mod=; [ "$spec" != "$i" ] && mod=${spec#*:}
  ns="${prefix}h$i"
  addr="10.250.0.1$i"
  ip netns add "$ns"
  ip link add "${prefix}v$i" type veth peer name eth0 netns "$ns"
  ip link set "${prefix}v$i" master "${prefix}br" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via 10.250.0.254
  mkdir -p "/etc/netns/$ns"
  echo "nameserver 127.0.0.1" >"/etc/netns/$ns/resolv.conf"
  printf '127.0.0.1 localhost\n%s node%s\n' "$addr" "$i" >"/etc/netns/$ns/hosts"
  [ "$mod" = down ] && continue
  cat >"$dir/sshd$i.conf" <<EOF
ListenAddress $addr:22
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
Subsystem sftp internal-sftp
EOF
  setup="hostname node$i"
  case "$mod" in
    nopython) setup="$setup; mount --bind $dir/empty /usr/bin/python3" ;;
    nosudo) setup="$setup; mount --bind $dir/fake-sudo /usr/bin/sudo" ;;
    "") ;;
    *) echo "vms-bed.sh: unknown host modifier $mod" >&2; exit 2 ;;
  esac
  setsid ip netns exec "$ns" unshare --uts --mount --propagation private \
    sh -c "$setup; exec /usr/sbin/sshd -D -e -f $dir/sshd$i.conf" >"$dir/sshd$i.log" 2>&1 </dev/null &
  echo $! >"$dir/host$i.pid"
done

# Ready when every sshd answers on its address.
for spec in "$@"; do
  i=${spec%%:*}
  [ "${spec#*:}" = down ] && continue
  ok=
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/10.250.0.1$i/22") 2>/dev/null; then ok=1; break; fi
    sleep 0.1
  done
  [ -n "$ok" ] || { echo "vms-bed.sh: sshd of host $i did not come up; its log:" >&2; cat "$dir/sshd$i.log" >&2; exit 1; }
done
trap - ERR
echo "vms-bed.sh: ${#hosts[@]} hosts up ($prefix, 10.250.0.11..)" >&2
