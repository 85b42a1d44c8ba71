"""Issue 14, items 1-2: small messages whose memo references make huge trees, and huge
integers, from a logged-in raw peer (mallory) while two real clients keep exchanging updates.
Each hostile message is refused with one log line naming mallory, every update between the
real clients still arrives within 2 s, the server's RSS stays bounded and it is alive after.

mu-serverd only: the reference server (and every deepdiff client it would relay to) stalls for
minutes or runs out of memory on these, so there is nothing to compare with."""

import pickle
import re

import pytest

from conftest import join, pump
from test_hostile import logged_in_raw, session

pytestmark = [pytest.mark.mu_only, pytest.mark.difference(14)]


class P:
    """A protocol-4 pickle written opcode by opcode (as an attacker would): every value is
    memoized and named by its memo index, so a node can refer to earlier ones any number of
    times. Python itself could not even build some of these (hashing a 2^40-leaf tuple)."""

    def __init__(self):
        self.out = bytearray(b"\x80\x04")
        self.n = 0

    def memo(self):
        self.out += b"\x94"
        self.n += 1
        return self.n - 1

    def get(self, i):
        self.out += b"h" + bytes([i]) if i < 256 else b"j" + i.to_bytes(4, "little")

    def str(self, s):
        b = s.encode()
        self.out += b"\x8c" + bytes([len(b)]) + b
        return self.memo()

    def int(self, i):
        self.out += b"K" + bytes([i])
        return self.memo()

    def tuple(self, items):
        self.out += b"("
        for i in items:
            self.get(i)
        self.out += b"t"
        return self.memo()

    def set(self, items):
        self.out += b"\x8f"
        m = self.memo()
        self.out += b"("
        for i in items:
            self.get(i)
        self.out += b"\x90"
        return m

    def dict(self, pairs):
        self.out += b"}"
        m = self.memo()
        self.out += b"("
        for k, v in pairs:
            self.get(k)
            self.get(v)
        self.out += b"u"
        return m

    def sdict(self, items):
        keyed = [(self.str(k), v) for k, v in items]
        return self.dict(keyed)

    def chain(self, leaf, depth):
        for _ in range(depth):
            leaf = self.tuple([leaf, leaf])
        return leaf

    def finish(self, top):
        self.get(top)
        self.out += b"."
        return bytes(self.out)


def py_chain(leaf, depth):
    """The same shape as real Python objects: pickle memoizes by identity, so it stays small."""
    for _ in range(depth):
        leaf = (leaf, leaf)
    return leaf


def rss_kb(server):
    with open(f"/proc/{server.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def same_node(peers, uuid, timeout):
    """Waits until the clients agree on one node. Only that node is compared: Python's `==`
    on a node holding a 2^40-leaf chain would itself run for hours."""
    def same():
        d = [p.repo.object_store[uuid].data for p in peers]
        return all(x == d[0] for x in d[1:])
    pump(peers, same, timeout=timeout, what="clients to agree")


def exchange(a, b, objs, rounds=3):
    """Edits going both ways between the real clients; each must arrive within 2 s."""
    for i in range(rounds):
        src = (b, a)[i % 2]
        o = src.instance(objs[0].uuid)
        o.location[1] += 1.0
        src.commit_push(objs[0].uuid)
        same_node([a, b], objs[0].uuid, timeout=2.0)


_names = iter(range(1000))


def still_works(server, peers, a, b, objs):
    """The server is alive, edits still flow and a newcomer joins with the edited node."""
    assert server.alive(), server.log()[-2000:]
    exchange(a, b, objs, rounds=2)
    c = join(server, peers, f"newcomer{next(_names)}", others=[a, b])
    same_node([a, b, c], objs[0].uuid, timeout=5.0)


def refused_line(server, *needles):
    text = server.wait_log("mallory", timeout=5.0)
    deadline_text = server.wait_log(needles[0], timeout=5.0)
    lines = [l for l in deadline_text.splitlines()
             if "mallory" in l and "refused" in l and all(n in l for n in needles)]
    assert len(lines) == 1, text[-3000:]
    return lines[0]


def put_evil(server, mallory, a, b, objs, evil):
    """Mallory updates objs[1] with an extra key `evil` (the real clients ignore it)."""
    node = objs[1].uuid
    data = dict(b.repo.graph.get(node).data)
    data["evil"] = evil
    mallory.send("data", [pickle.dumps(2, protocol=4), node.encode(), b"COMMON",
                          pickle.dumps([], protocol=4), pickle.dumps(data, protocol=4)])
    pump([a, b], lambda: "evil" in b.repo.graph.get(node).data, timeout=5.0, what="evil node")
    return node


def commit(mallory, node, delta):
    mallory.send("data", [pickle.dumps(1, protocol=4), node.encode(),
                          pickle.dumps([], protocol=4), delta])


def attack_and_check(server, peers, a, b, objs, send, *needles, rss_growth_mb=48):
    before = rss_kb(server)
    send()
    exchange(a, b, objs)
    refused_line(server, *needles)
    grown = (rss_kb(server) - before) / 1024
    assert grown < rss_growth_mb, f"RSS grew {grown:.0f} MB"
    still_works(server, peers, a, b, objs)


def test_metadata_keys_built_from_memo_references(mu_server, peers, raw):
    server = mu_server()
    a, b, scene, objs, blob = session(server, peers)
    m = logged_in_raw(server, raw)
    p = P()
    ka, kb = p.chain(p.str("k"), 40), p.chain(p.str("k"), 40)
    one = p.int(1)
    data = p.finish(p.dict([(ka, one), (kb, one)]))
    assert len(data) < 1200
    attack_and_check(server, peers, a, b, objs,
                     lambda: m.send("cmd", [pickle.dumps(13, protocol=4), b"mallory", data]),
                     "UpdateUserMetadata", "work budget")


def dag_delta(group, path, in_set):
    p = P()
    v = p.chain(p.int(1), 40)
    if in_set:
        v = p.set([v])
    return p.finish(p.sdict([(group, p.sdict([(path, v)]))]))


def test_commit_set_item_added_of_a_memo_dag(mu_server, peers, raw):
    server = mu_server()
    a, b, scene, objs, blob = session(server, peers)
    m = logged_in_raw(server, raw)
    node = objs[1].uuid
    delta = dag_delta("set_item_added", "root['tags']", True)
    assert len(delta) < 700
    attack_and_check(server, peers, a, b, objs, lambda: commit(m, node, delta), "too costly")


def test_commit_iterable_item_removed_of_a_memo_dag(mu_server, peers, raw):
    server = mu_server()
    a, b, scene, objs, blob = session(server, peers)
    m = logged_in_raw(server, raw)
    node = put_evil(server, m, a, b, objs, [py_chain(1, 40)])
    delta = dag_delta("iterable_item_removed", "root['evil'][0]", False)
    attack_and_check(server, peers, a, b, objs, lambda: commit(m, node, delta), "too costly")


def test_commit_type_change_to_str_of_shared_references(mu_server, peers, raw):
    """deepdiff omits new_value, so the receiver builds str() of 2^40 strings."""
    server = mu_server()
    a, b, scene, objs, blob = session(server, peers)
    m = logged_in_raw(server, raw)
    node = put_evil(server, m, a, b, objs, [py_chain("abcdefgh", 40)])
    delta = pickle.dumps({"type_changes": {"root['evil']": {"old_type": list, "new_type": str}}},
                         protocol=4)
    assert len(delta) < 150
    attack_and_check(server, peers, a, b, objs, lambda: commit(m, node, delta), "refused as too costly")


@pytest.mark.parametrize("new_type", [str, float])
def test_commit_type_change_of_a_megabyte_integer(mu_server, peers, raw, new_type):
    """CPython refuses str() of more than 4,300 digits, and deepdiff formats the value into the
    message of the failed conversion: the Delta raises ValueError on every client, so the
    server refuses it (deepdiff-exact), at once instead of after 20 s of division."""
    server = mu_server()
    a, b, scene, objs, blob = session(server, peers)
    m = logged_in_raw(server, raw)
    node = put_evil(server, m, a, b, objs, 1 << (8 * 1_000_000))
    delta = pickle.dumps({"type_changes": {"root['evil']": {"old_type": int, "new_type": new_type}}},
                         protocol=4)
    assert len(delta) < 150
    attack_and_check(server, peers, a, b, objs, lambda: commit(m, node, delta), "ValueError",
                     rss_growth_mb=48)


def test_commits_growing_a_node_past_the_message_cap(mu_server, peers, raw):
    """Each Commit fits in a message, but together they would grow mallory's node past
    max_message_bytes: the one that would is refused (nothing stored or relayed, mallory stays
    connected), so the server never holds a node it could not accept or send again."""
    cap = 256 << 10
    server = mu_server(server_extra=[f"max_message_bytes = {cap}"])
    a, b, scene, objs, blob = session(server, peers)
    m = logged_in_raw(server, raw)
    node = put_evil(server, m, a, b, objs, 0)
    chunk = "x" * (60 << 10)

    def grow(i):
        return pickle.dumps({"dictionary_item_added": {f"root['grow{i}']": chunk}}, protocol=4)

    def send():
        for i in range(5):
            commit(m, node, grow(i))
            exchange(a, b, objs, rounds=1)

    attack_and_check(server, peers, a, b, objs, send, "refused as too large", str(cap))
    held = b.repo.graph.get(node).data
    grown = sorted(k for k in held if k.startswith("grow"))
    # 4 x 60 KiB fit in 256 KiB with the rest of the node; the 5th was refused
    assert grown == ["grow0", "grow1", "grow2", "grow3"], grown
    assert len(pickle.dumps(held, protocol=4)) <= cap
    # mallory is still connected: a small Commit of its own still reaches bob
    commit(m, node, pickle.dumps({"dictionary_item_removed": {"root['grow0']": chunk}}, protocol=4))
    pump([a, b], lambda: "grow0" not in b.repo.graph.get(node).data, timeout=2.0,
         what="mallory's shrinking Commit at bob")
