"""Issue #18: the OCI image, driven the way a Docker user runs it. Called by
tests/suite.d/65-container.sh after it built the image with podman under a throwaway
CONTAINERS_CONF/storage; this script creates containers, volumes and secrets whose names start
with PREFIX and removes each of them by name (finally:), whatever happens.

  1. the seed's .env keys (PORT, ADMIN_PASSWORD, SERVER_PASSWORD, TIMEOUT, LOG_LEVEL) with
     published loopback ports: real replication 0.9.10 clients upload, join and edit; the daemon
     runs as the image's non-root user; `podman exec ... mu-ctl users` lists the clients; the
     HEALTHCHECK passes;
  2. `podman stop`: each client gets Disconnect with a reason, the container exits 0 within the
     10 s grace after writing the final snapshot;
  3. a new container on the same volume: a new client gets RUNNING and the edited scene;
  4. passwords from secrets (`--secret`, *_PASSWORD_FILE) and a mounted /etc/mu-server.toml;
  5. a bad mounted config: the container exits 1 and its log has the file:line reason;
  6. packaging/container/compose.yaml with podman-compose: as shipped with the seed's .env, and
     with its secrets example uncommented.

argv: ROOT WORK IMAGE PREFIX BASE_PORT"""

import json
import os
import shutil
import subprocess
import sys
import time

ROOT, WORK, IMAGE, PREFIX, BASE = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
sys.path.insert(0, os.path.join(ROOT, "tests", "conformance"))
from conftest import Peer, Raw, host, join, pump, pump_for, server_info, wait_same  # noqa: E402
from replication import porcelain  # noqa: E402
from replication.constants import STATE_ACTIVE  # noqa: E402

COMPOSE = os.path.join(ROOT, "packaging", "container", "compose.yaml")
UID = 10555  # the image's mu-server user (Containerfile ARG UID)
ADMIN_PWD, SERVER_PWD = "ctr-admin-secret", "ctr-server-secret"
made = {"container": [], "volume": [], "secret": [], "network": []}
peers = []


def say(msg):
    print(f"65-container: {msg}", flush=True)


def podman(*args, check=True, timeout=60):
    p = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def logs(name):
    p = podman("logs", name, check=False)
    return p.stdout + p.stderr


def volume(name):
    podman("volume", "create", name)
    made["volume"].append(name)
    return name


def run(name, *args):
    """`podman run -d` with the test's limits; the health timer is off (no systemd here: the
    test runs the check itself with `podman healthcheck run`)."""
    made["container"].append(name)
    t0 = time.monotonic()
    podman("run", "-d", "--name", name, "--health-interval", "disable", *args, IMAGE)
    return t0


def wait_ready(name, port, t0, timeout=20.0):
    """Seconds from `podman run` until the server answers RequestServerInfo on `port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server_info(port, timeout_ms=200) is not None:
            return time.monotonic() - t0
        state = podman("inspect", name, "--format", "{{.State.Status}}", check=False).stdout.strip()
        if state in ("exited", "stopped"):
            raise AssertionError(f"{name} exited before it was ready:\n{logs(name)}")
    raise AssertionError(f"{name} not answering on {port} after {timeout} s:\n{logs(name)}")


def wait_exit(name, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = json.loads(podman("inspect", name, "--format", "{{json .State}}").stdout)
        if s["Status"] in ("exited", "stopped"):
            return s["ExitCode"]
        time.sleep(0.1)
    raise AssertionError(f"{name} still running after {timeout} s:\n{logs(name)}")


class Endpoint:
    """What conftest's Peer needs to know about a server."""

    def __init__(self, port, admin_password, server_password, timeout_ms=5000):
        self.port, self.admin_password, self.server_password = port, admin_password, server_password
        self.timeout_ms = timeout_ms


def make(server, name, **kw):
    p = Peer(server, name, **kw)
    peers.append(p)
    return p


def status_of(pid_status, key):
    return next(line.split()[1:] for line in pid_status.splitlines() if line.startswith(key + ":"))


def main():
    vol = volume(f"{PREFIX}-state")
    port = BASE
    pub = f"127.0.0.1:{port}-{port + 2}:{port}-{port + 2}"
    env_file = os.path.join(WORK, "seed.env")
    with open(env_file, "w") as f:  # the seed's .env, keys unchanged
        f.write(f"PORT={port}\nADMIN_PASSWORD={ADMIN_PWD}\nSERVER_PASSWORD={SERVER_PWD}\n"
                "TIMEOUT=5000\nLOG_LEVEL=INFO\n")
    srv = Endpoint(port, ADMIN_PWD, SERVER_PWD)

    # 1. ------------------------------------------------------------------------------------
    a_name = f"{PREFIX}-a"
    t0 = run(a_name, "--env-file", env_file, "-p", pub, "-v", f"{vol}:/var/lib/mu-server")
    ready = wait_ready(a_name, port, t0)
    say(f"1. container up: `podman run` to first RequestServerInfo answer {ready:.2f} s")
    st = podman("exec", a_name, "cat", "/proc/1/status").stdout
    assert status_of(st, "Uid")[:2] == [str(UID), str(UID)], f"PID 1 is not uid {UID}: {st}"
    assert "mu-serverd" in status_of(st, "Name"), st

    a, scene, objs, blob = host(srv, make, name="ctr-host")
    b = join(srv, make, "ctr-bob", others=[a])
    porcelain.apply(b.repo, objs[1].uuid, force=True)
    o = b.instance(objs[1].uuid)
    o.location = [4.5, -2.25, 8.0]
    b.commit_push(o.uuid)
    before = wait_same([a, b])
    assert before[objs[1].uuid][2]["location"] == [4.5, -2.25, 8.0], before[objs[1].uuid]
    say("   ctr-host uploaded a scene, ctr-bob joined and moved an object; both agree")

    users = podman("exec", a_name, "mu-ctl", "users").stdout
    names = {line.split()[0] for line in users.splitlines() if line.strip()}
    assert {"ctr-host", "ctr-bob"} <= names, users
    hc = podman("healthcheck", "run", a_name, check=False)
    assert hc.returncode == 0, f"healthcheck: {hc.returncode} {hc.stdout} {hc.stderr}"
    st = podman("exec", a_name, "cat", "/proc/1/status").stdout
    rss = " ".join(status_of(st, "VmRSS"))
    say(f"   podman exec mu-ctl users lists both; healthcheck ok; daemon uid {UID}, RSS {rss}")
    log = logs(a_name)
    assert "/dev/log" not in log, f"syslog noise in the container log:\n{log}"
    assert "password taken from environment variable ADMIN_PASSWORD" in log, log

    # 2. ------------------------------------------------------------------------------------
    t_stop = time.monotonic()
    stopper = subprocess.Popen(["podman", "stop", a_name], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    pump([a, b], lambda: a.exit_reason is not None and b.exit_reason is not None, timeout=15,
         what="Disconnect at podman stop")
    out, _ = stopper.communicate(timeout=20)
    took = time.monotonic() - t_stop
    code = wait_exit(a_name)
    for p in (a, b):
        assert "shutting down" in str(p.exit_reason), (p.name, p.exit_reason)
    log = logs(a_name)
    assert code == 0, f"exit code {code} after podman stop:\n{log}"
    assert "final snapshot" in log, log
    assert took < 10, f"podman stop took {took:.1f} s (grace is 10 s)"
    say(f"2. podman stop: both clients got Disconnect ('{a.exit_reason}'), exit 0, final "
        f"snapshot written, {took:.2f} s")
    for p in (a, b):
        p.close()

    # 3. ------------------------------------------------------------------------------------
    b_name = f"{PREFIX}-b"
    t0 = run(b_name, "--env-file", env_file, "-p", pub, "-v", f"{vol}:/var/lib/mu-server")
    wait_ready(b_name, port, t0)
    c = make(srv, "ctr-carol")
    pump([c], lambda: c.state == STATE_ACTIVE, what="carol joined a RUNNING session")
    got = c.nodes()
    assert set(got) == set(before), (sorted(got), sorted(before))
    assert all(got[u][2] == before[u][2] for u in before), "restored data differs"
    assert got[objs[1].uuid][2]["location"] == [4.5, -2.25, 8.0]
    assert "loaded session from" in logs(b_name), logs(b_name)
    say(f"3. new container on volume {vol}: ctr-carol pulled the {len(got)} nodes with the edit")
    c.close()
    podman("stop", b_name)

    # 4. ------------------------------------------------------------------------------------
    port2 = BASE + 3
    cfg = os.path.join(WORK, "mu-server.toml")
    with open(cfg, "w") as f:
        f.write(f"[server]\nport = {port2}\ntimeout_ms = 4000\n[log]\nlevel = \"info\"\n")
    os.chmod(cfg, 0o644)
    for who, pwd in (("admin", "from-a-secret"), ("server", "server-from-a-secret")):
        path = os.path.join(WORK, f"{who}_password")
        with open(path, "w") as f:
            f.write(pwd + "\n")
        name = f"{PREFIX}-{who}-password"
        podman("secret", "create", name, path)
        made["secret"].append(name)
    s_name = f"{PREFIX}-secrets"
    t0 = run(s_name, "-p", f"127.0.0.1:{port2}-{port2 + 2}:{port2}-{port2 + 2}",
             "-v", f"{volume(PREFIX + '-state2')}:/var/lib/mu-server",
             "-v", f"{cfg}:/etc/mu-server.toml:ro",
             "--secret", f"{PREFIX}-admin-password,target=admin_password",
             "--secret", f"{PREFIX}-server-password,target=server_password",
             "-e", "ADMIN_PASSWORD_FILE=/run/secrets/admin_password",
             "-e", "SERVER_PASSWORD_FILE=/run/secrets/server_password")
    wait_ready(s_name, port2, t0)
    info = server_info(port2, timeout_ms=2000)
    assert info and info.get("private") is True, info
    r = Raw(port2)
    try:
        refused = r.auth("ctr-mallory", admin_pwd="not-it", server_pwd="server-from-a-secret")
    finally:
        r.close()
    assert "FAILED" in str(refused), refused
    srv2 = Endpoint(port2, "from-a-secret", "server-from-a-secret", timeout_ms=4000)
    d, *_ = host(srv2, make, name="ctr-dora")  # logs in as admin with the secret's password
    status = json.loads(podman("exec", s_name, "mu-ctl", "--json", "status").stdout)["status"]
    assert status["config_file"] == "/etc/mu-server.toml", status
    log = logs(s_name)
    assert "password taken from environment" not in log, log
    # `docker kill -s HUP` reloads the mounted file (same inode, rewritten in place).
    with open(cfg, "w") as f:
        f.write(f"[server]\nport = {port2}\ntimeout_ms = 6000\n[log]\nlevel = \"info\"\n")
    podman("kill", "-s", "HUP", s_name)
    deadline = time.monotonic() + 10
    while "configuration reloaded" not in logs(s_name):
        assert time.monotonic() < deadline, f"no reload after SIGHUP:\n{logs(s_name)}"
        pump_for([d], 0.1)
    say("4. secrets: admin and server passwords from /run/secrets via *_PASSWORD_FILE (a wrong "
        "admin password is refused, the right one hosts); config from the mounted file, "
        "reloaded by SIGHUP")
    d.close()
    podman("stop", s_name)

    # 5. ------------------------------------------------------------------------------------
    bad = os.path.join(WORK, "bad.toml")
    with open(bad, "w") as f:
        f.write("[server]\nport = 5555\nprot = 5556\n")
    os.chmod(bad, 0o644)
    x_name = f"{PREFIX}-bad"
    run(x_name, "-v", f"{volume(PREFIX + '-state3')}:/var/lib/mu-server",
        "-v", f"{bad}:/etc/mu-server.toml:ro")
    code = wait_exit(x_name)
    log = logs(x_name)
    assert code == 1, f"exit code {code}:\n{log}"
    assert "/etc/mu-server.toml:3: unknown field `prot`" in log, log
    say(f"5. bad mounted config: exit 1, log says: {log.strip().splitlines()[-1]}")

    # 6. ------------------------------------------------------------------------------------
    compose_as_shipped()
    compose_with_secrets()


# Lines of compose.yaml's commented secrets example (uncommented by compose_with_secrets).
SECRET_LINES = ("environment:", "ADMIN_PASSWORD_FILE:", "SERVER_PASSWORD_FILE:", "secrets:",
                "- admin_password", "- server_password", "admin_password:", "server_password:",
                "file: ./secrets/")


def compose(project, directory, *args, check=True):
    """podman-compose (the stand-in for `docker compose` here) in `directory`."""
    p = subprocess.run(["podman-compose", "-p", project, *args], cwd=directory,
                       capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"podman-compose {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def compose_dir(tag, text, env):
    d = os.path.join(WORK, f"compose-{tag}")
    os.makedirs(d)
    with open(os.path.join(d, "compose.yaml"), "w") as f:
        f.write(text)
    with open(os.path.join(d, ".env"), "w") as f:
        f.write(env)
    return d


def compose_as_shipped():
    """compose.yaml unchanged, next to the seed's .env (plus PORT_LAST and PUBLISH_IP: the
    suite's ports are not 5555 and tests publish on loopback only)."""
    port = BASE + 6
    d = compose_dir("shipped", open(COMPOSE).read(),
                    f"PORT={port}\nPORT_LAST={port + 2}\nPUBLISH_IP=127.0.0.1\n"
                    f"ADMIN_PASSWORD={ADMIN_PWD}\nSERVER_PASSWORD=\nTIMEOUT=5000\nLOG_LEVEL=INFO\n")
    project = f"{PREFIX}-compose"
    name = f"{project}_mu-server_1"
    made["container"].append(name)
    made["volume"].append(f"{project}_state")
    made["network"].append(f"{project}_default")
    t0 = time.monotonic()
    compose(project, d, "up", "-d")
    wait_ready(name, port, t0)
    # SERVER_PASSWORD= (empty) in .env: like the reference's -spwd '', the addon's empty
    # password field matches.
    srv = Endpoint(port, ADMIN_PWD, "")
    a, *_ = host(srv, make, name="cmp-host")
    b = join(srv, make, "cmp-bob", others=[a])
    users = compose(project, d, "exec", "mu-server", "mu-ctl", "users").stdout
    assert "cmp-host" in users and "cmp-bob" in users, users
    compose(project, d, "stop")
    pump([a, b], lambda: a.exit_reason is not None and b.exit_reason is not None, timeout=15,
         what="Disconnect at compose stop")
    assert "final snapshot" in logs(name), logs(name)
    before = a.nodes()
    for p in (a, b):
        p.close()
    # `down` removes the container, not the named volume: `up` again brings the session back.
    compose(project, d, "down")
    t0 = time.monotonic()
    compose(project, d, "up", "-d")
    wait_ready(name, port, t0)
    c = make(srv, "cmp-carol")
    pump([c], lambda: c.state == STATE_ACTIVE, what="cmp-carol joined a RUNNING session")
    assert {u: n[2] for u, n in c.nodes().items()} == {u: n[2] for u, n in before.items()}
    c.close()
    compose(project, d, "stop")
    say("6. compose.yaml as shipped with the seed's .env: clients host and join, `podman-compose "
        "exec mu-server mu-ctl users` lists them, `stop` disconnects them with a reason, "
        "`down` + `up` brings the session back from the volume")


def compose_with_secrets():
    """compose.yaml with its secrets example uncommented; the passwords leave .env."""
    port = BASE + 9
    out, n = [], 0
    for line in open(COMPOSE).read().splitlines():
        body = line.lstrip(" ")
        if body.startswith("# ") and body[2:].lstrip(" ").startswith(SECRET_LINES):
            line = line[: len(line) - len(body)] + body[2:]
            n += 1
        out.append(line)
    assert n == 11, f"the secrets example in compose.yaml changed shape ({n} lines uncommented)"
    d = compose_dir("secrets", "\n".join(out) + "\n",
                    f"PORT={port}\nPORT_LAST={port + 2}\nPUBLISH_IP=127.0.0.1\nTIMEOUT=5000\n")
    os.makedirs(os.path.join(d, "secrets"))
    for who in ("admin", "server"):
        path = os.path.join(d, "secrets", f"{who}_password")
        with open(path, "w") as f:
            f.write(f"{who}-compose-secret\n")
        os.chmod(path, 0o644)
    project = f"{PREFIX}-secrets"
    name = f"{project}_mu-server_1"
    made["container"].append(name)
    made["volume"].append(f"{project}_state")
    made["network"].append(f"{project}_default")
    t0 = time.monotonic()
    compose(project, d, "up", "-d")
    wait_ready(name, port, t0)
    srv = Endpoint(port, "admin-compose-secret", "server-compose-secret")
    assert server_info(port, timeout_ms=2000).get("private") is True
    a, *_ = host(srv, make, name="cmp-secret-host")
    assert "password taken from environment" not in logs(name), logs(name)
    compose(project, d, "stop")
    say("   compose.yaml with its secrets example uncommented: the admin logs in with the "
        "password from ./secrets/admin_password, the server is private")
    a.close()


def cleanup():
    for p in peers:
        try:
            p.close()
        except Exception:
            pass
    for name in made["container"]:
        podman("rm", "-f", "-t", "0", name, check=False)
    for name in made["volume"]:
        podman("volume", "rm", "-f", name, check=False)
    for name in made["secret"]:
        podman("secret", "rm", name, check=False)
    for name in made["network"]:
        podman("network", "rm", "-f", name, check=False)
        # CNI's host-local IPAM keeps a directory per network outside podman's store.
        ipam = os.path.join("/var/lib/cni/networks", name)
        if os.path.isdir(ipam):
            shutil.rmtree(ipam, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        for name in made["container"]:
            print(f"--- podman logs {name} (last 20 lines)", flush=True)
            print("\n".join(logs(name).splitlines()[-20:]), flush=True)
        raise
    finally:
        cleanup()
    say("scenario ok")
