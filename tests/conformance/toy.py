"""A toy DataTranslationProtocol standing in for Blender's: a root Scene type, Obj (delta
commits, nested dicts/lists/tuples/sets), and Blob (a bytes payload, full-node updates).

Each client owns a World (its "Blender"): instances are plain Python objects found by uuid."""

from replication.protocol import DataTranslationProtocol, ReplicatedDatablock


class Scene:
    def __init__(self, name, objects=None):
        self.name = name
        self.objects = list(objects or [])   # Obj / Blob instances: the dependencies
        self.frame = 1


class Obj:
    def __init__(self, name):
        self.name = name
        self.location = [0.0, 0.0, 0.0]
        self.rotation = (0.0, 0.0, 0.0)
        self.props = {"visible": True, "pass_index": 0, "label": None}
        self.tags = set()
        self.modifiers = []


class Blob:
    def __init__(self, name, payload=b""):
        self.name = name
        self.payload = payload


class World:
    """Where one client keeps its instances."""

    def __init__(self):
        self.by_uuid = {}

    def remember(self, inst):
        uuid = getattr(inst, "uuid", None)
        if uuid:
            self.by_uuid[uuid] = inst


class _Impl(ReplicatedDatablock):
    def __init__(self, world):
        self.world = world

    def resolve(self, data):
        return self.world.by_uuid.get(data.get("uuid"))

    def needs_update(self, datablock, data):
        return True


class SceneImpl(_Impl):
    is_root = True
    use_delta = True

    def construct(self, data):
        inst = Scene(data["name"])
        inst.uuid = data.get("uuid")
        self.world.remember(inst)
        return inst

    def dump(self, s):
        return {"name": s.name, "frame": s.frame, "objects": [getattr(o, "uuid", None) for o in s.objects]}

    def load(self, data, s):
        s.name = data["name"]
        s.frame = data["frame"]
        s.objects = [self.world.by_uuid[u] for u in data["objects"] if u in self.world.by_uuid]
        self.world.remember(s)

    def resolve_deps(self, s):
        return list(s.objects)


class ObjImpl(_Impl):
    use_delta = True

    def construct(self, data):
        inst = Obj(data["name"])
        inst.uuid = data.get("uuid")
        self.world.remember(inst)
        return inst

    def dump(self, o):
        return {
            "name": o.name,
            "location": list(o.location),
            "rotation": tuple(o.rotation),
            "props": dict(o.props),
            "tags": set(o.tags),
            "modifiers": [dict(m) for m in o.modifiers],
        }

    def load(self, data, o):
        o.name = data["name"]
        o.location = list(data["location"])
        o.rotation = tuple(data["rotation"])
        o.props = dict(data["props"])
        o.tags = set(data["tags"])
        o.modifiers = [dict(m) for m in data["modifiers"]]
        self.world.remember(o)

    def resolve_deps(self, o):
        return []


class BlobImpl(_Impl):
    use_delta = False

    def construct(self, data):
        inst = Blob(data["name"])
        inst.uuid = data.get("uuid")
        self.world.remember(inst)
        return inst

    def dump(self, b):
        return {"name": b.name, "payload": bytes(b.payload), "size": len(b.payload)}

    def load(self, data, b):
        b.name = data["name"]
        b.payload = data["payload"]
        self.world.remember(b)

    def resolve_deps(self, b):
        return []


def make_protocol(world):
    rdp = DataTranslationProtocol()
    rdp.register_implementation(Scene, SceneImpl(world))
    rdp.register_implementation(Obj, ObjImpl(world))
    rdp.register_implementation(Blob, BlobImpl(world))
    return rdp
