# Sourced by tests/suite.d/65-container.sh and packaging/container/measure.sh: a throwaway podman
# setup under $WORK (containers.conf, storage, CNI config, events log, empty registries.conf), so
# neither ever reads or writes the machine's own podman configuration or image store. Facts from
# ../shared/notes/containers.md: runc (crun fails on hybrid cgroups), rlimits podman may set.
podman_env() { # WORK
  local work=$1
  mkdir -p "$work/cni" "$work/tmp"
  cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]
log_driver = "k8s-file"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/events.log"
tmp_dir = "$work/tmp"
[network]
network_config_dir = "$work/cni"
CONF
  cat >"$work/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$work/storage"
runroot = "$work/run"
CONF
  : >"$work/registries.conf"
  export CONTAINERS_CONF=$work/containers.conf CONTAINERS_STORAGE_CONF=$work/storage.conf
  export CONTAINERS_REGISTRIES_CONF=$work/registries.conf
}

# Unmounts what podman left mounted under WORK, then removes WORK.
podman_env_remove() { # WORK
  local work=$1
  { grep -F " $work/" /proc/mounts || true; } | awk '{print $2}' | sort -r |
    while read -r m; do umount "$m" || true; done
  rm -rf "$work"
}

# The Debian 12 base (no registry here): mmdebstrap minbase from the machine's apt sources,
# cached as TAR; made again when missing or when MU_CONTAINER_FRESH_BASE is set.
debian_base_tar() { # TAR LOG
  local tar=$1 log=$2
  if [ -s "$tar" ] && [ -z "${MU_CONTAINER_FRESH_BASE:-}" ]; then return 0; fi
  mkdir -p "$(dirname "$tar")"
  mmdebstrap --quiet --variant=minbase --format=tar bookworm "$tar.tmp" >"$log" 2>&1 || {
    tail -n 20 "$log"; rm -rf "$tar.tmp"; return 1; }
  mv "$tar.tmp" "$tar"
}
