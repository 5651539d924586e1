"""Reading the recorded MLflow exchanges and comparing a live answer with a recorded one.

The recordings (compat/recordings/, copied from shared/mlflow-reference) hold every request the
real MLflow 3.18 client sent to the real MLflow 3.18 server and the answer it got. Long bodies
were cut by the recorder (request bodies at 600 characters, responses at 400 or 3000), so a
truncated JSON text is parsed leniently: what is complete is compared, the cut tail is not.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

HERE = Path(__file__).parent
RECORDINGS = HERE / "recordings"

HEX32 = re.compile(r"^[0-9a-f]{32}$")
MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")
GENERATED_RUN_NAME = re.compile(r"^[a-z]+-[a-z]+-\d+$")
DIGITS = re.compile(r"^\d+$")

# Timestamps the server makes up itself: compared by shape. Client-sent ones (start_time,
# end_time, a metric's timestamp) must come back exactly as sent.
SERVER_TIME_KEYS = {
    "creation_time", "last_update_time", "creation_timestamp", "last_updated_timestamp",
    "creation_timestamp_ms", "last_updated_timestamp_ms",
}
KEYED_LIST = re.compile(r"(\.data\.(metrics|params|tags)|\.tags)$")
ID_KEYS = {"run_id", "run_uuid", "experiment_id", "model_id", "source_run_id"}


def load(name: str) -> list[dict]:
    path = RECORDINGS / f"client-3.18-{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def steps(entries: list[dict]) -> list[tuple[str, list[tuple[int, dict]]]]:
    """Splits a recording at its `/__marker__/<step>` lines: [(step, [(index, entry)])]."""
    out: list[tuple[str, list[tuple[int, dict]]]] = []
    current = ("start", [])
    for i, e in enumerate(entries):
        if e["p"].startswith("/__marker__/"):
            if current[1] or current[0] != "start":
                out.append(current)
            current = (e["p"].split("/")[-1], [])
        else:
            current[1].append((i, e))
    out.append(current)
    return [s for s in out if s[1]]


# --- lenient JSON ---------------------------------------------------------------------------


class PartialDict(dict):
    """An object whose text was cut: only the keys it shows are compared."""


class PartialList(list):
    """An array whose text was cut: only its first elements are compared."""


class _Cut(Exception):
    pass


class _Parser:
    def __init__(self, text: str):
        self.s = text
        self.i = 0

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1
        if self.i >= len(self.s):
            raise _Cut()

    def value(self):
        self.ws()
        c = self.s[self.i]
        if c == "{":
            return self.obj()
        if c == "[":
            return self.arr()
        if c == '"':
            return self.string()
        m = re.compile(r"-?(?:\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null|NaN|-?Infinity").match(
            self.s, self.i
        )
        if not m:
            raise ValueError(f"bad JSON at {self.i}: {self.s[self.i:self.i + 20]!r}")
        self.i = m.end()
        if self.i >= len(self.s):  # a number at the very end may have been cut
            raise _Cut()
        return json.loads(m.group(0)) if m.group(0) not in ("NaN", "Infinity", "-Infinity") else float(m.group(0))

    def string(self):
        j = self.i + 1
        while j < len(self.s):
            if self.s[j] == "\\":
                j += 2
                continue
            if self.s[j] == '"':
                v = json.loads(self.s[self.i:j + 1])
                self.i = j + 1
                return v
            j += 1
        raise _Cut()

    def obj(self):
        out = {}
        self.i += 1
        try:
            self.ws()
            if self.s[self.i] == "}":
                self.i += 1
                return out
            while True:
                self.ws()
                key = self.string()
                self.ws()
                assert self.s[self.i] == ":"
                self.i += 1
                try:
                    out[key] = self.value()
                except _Cut as cut:
                    partial = getattr(cut, "partial", None)
                    if partial is not None:
                        out[key] = partial
                    raise
                self.ws()
                if self.s[self.i] == ",":
                    self.i += 1
                    continue
                assert self.s[self.i] == "}"
                self.i += 1
                return out
        except _Cut as cut:
            cut.partial = PartialDict(out)
            raise

    def arr(self):
        out = []
        self.i += 1
        try:
            self.ws()
            if self.s[self.i] == "]":
                self.i += 1
                return out
            while True:
                try:
                    out.append(self.value())
                except _Cut as cut:
                    partial = getattr(cut, "partial", None)
                    if partial is not None and (not isinstance(partial, (dict, list)) or partial):
                        out.append(partial)
                    raise
                self.ws()
                if self.s[self.i] == ",":
                    self.i += 1
                    continue
                assert self.s[self.i] == "]"
                self.i += 1
                return out
        except _Cut as cut:
            cut.partial = PartialList(out)
            raise


def lenient_json(text: str):
    """Parses JSON that may have been cut short; cut containers become Partial*."""
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    p = _Parser(text)
    try:
        v = p.value()
    except _Cut as cut:
        return getattr(cut, "partial", None)
    return v


def is_partial(v) -> bool:
    return isinstance(v, (PartialDict, PartialList))


def complete_only(v):
    """A request body rebuilt from a cut one: cut objects inside arrays are dropped."""
    if isinstance(v, dict):
        return {k: complete_only(x) for k, x in v.items() if not (is_partial(x) and isinstance(x, dict))}
    if isinstance(v, list):
        return [complete_only(x) for x in v if not (isinstance(x, PartialDict))]
    return v


# --- comparison -------------------------------------------------------------------------------


class IdMap:
    """Recorded id -> live id, learned from answers, applied to the next requests."""

    def __init__(self):
        self.fwd: dict[str, str] = {}

    def learn(self, recorded: str, live: str, path: str):
        known = self.fwd.get(recorded)
        if known is not None and known != live:
            raise AssertionError(
                f"{path}: recorded id {recorded!r} was live {known!r} before, now {live!r}"
            )
        self.fwd[recorded] = live

    def map(self, v):
        return self.fwd.get(v, v) if isinstance(v, str) else v

    def map_text(self, s: str) -> str:
        for rec, live in self.fwd.items():
            if HEX32.match(rec) or MODEL_ID.match(rec) or GENERATED_RUN_NAME.match(rec):
                s = s.replace(rec, live)
        return s

    def map_body(self, v):
        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                if k in ID_KEYS and isinstance(x, str):
                    out[k] = self.map(x)
                elif k == "experiment_ids" and isinstance(x, list):
                    out[k] = [self.map(e) for e in x]
                else:
                    out[k] = self.map_body(x)
            return out
        if isinstance(v, list):
            return [self.map_body(x) for x in v]
        if isinstance(v, str):
            return self.map_text(v)
        return v

    def map_url(self, path: str) -> str:
        base, _, query = path.partition("?")
        base = "/".join(self.map_text(seg) for seg in base.split("/"))
        if not query:
            return base
        from urllib.parse import parse_qsl, urlencode

        pairs = []
        for k, v in parse_qsl(query, keep_blank_values=True):
            if k in ID_KEYS or k == "experiment_ids" or k == "run_ids":
                v = self.map(v)
            else:
                v = self.map_text(v)
            pairs.append((k, v))
        return base + "?" + urlencode(pairs)


def _num_equal(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) and math.isnan(a):
            return isinstance(b, float) and math.isnan(b)
        return a == b
    return False


def compare(expected, got, ids: IdMap, path: str = "$", ignore: frozenset = frozenset()) -> list[str]:
    """Field-by-field comparison; returns the differences (empty when the answers agree)."""
    diffs: list[str] = []
    key = path.rsplit(".", 1)[-1].split("[")[0]
    if any(re.fullmatch(p, path) for p in ignore):
        return diffs
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [f"{path}: expected an object, got {json.dumps(got)[:200]}"]
        for k, ev in expected.items():
            if k not in got:
                if not any(re.fullmatch(p, f"{path}.{k}") for p in ignore):
                    diffs.append(f"{path}.{k}: missing (expected {json.dumps(ev)[:120]})")
                continue
            diffs += compare(ev, got[k], ids, f"{path}.{k}", ignore)
        if not isinstance(expected, PartialDict):
            for k in got:
                if k not in expected and not any(re.fullmatch(p, f"{path}.{k}") for p in ignore):
                    diffs.append(f"{path}.{k}: unexpected field (value {json.dumps(got[k])[:120]})")
        return diffs
    if isinstance(expected, list):
        if not isinstance(got, list):
            return [f"{path}: expected an array, got {json.dumps(got)[:200]}"]
        if isinstance(expected, PartialList):
            if len(got) < len(expected):
                diffs.append(f"{path}: expected at least {len(expected)} elements, got {len(got)}")
        elif len(got) != len(expected):
            diffs.append(f"{path}: expected {len(expected)} elements, got {len(got)}: {json.dumps(got)[:300]}")
        if KEYED_LIST.search(path) and all(isinstance(x, dict) and "key" in x for x in expected) \
                and all(isinstance(x, dict) and "key" in x for x in got):
            # run data and tag lists: matched by key, MLflow does not promise an order
            by_key = {x["key"]: x for x in got}
            for ev in expected:
                gv = by_key.get(ev["key"])
                if gv is None:
                    diffs.append(f"{path}: no entry with key {ev['key']!r} (expected {json.dumps(ev)[:160]})")
                else:
                    diffs += compare(ev, gv, ids, f"{path}[key={ev['key']}]", ignore)
            return diffs
        for i, (ev, gv) in enumerate(zip(expected, got)):
            diffs += compare(ev, gv, ids, f"{path}[{i}]", ignore)
        return diffs
    if isinstance(expected, str) and isinstance(got, str):
        if key in ID_KEYS or (key == "value" and HEX32.match(expected)):
            if (HEX32.match(expected) and HEX32.match(got)) or (
                MODEL_ID.match(expected) and MODEL_ID.match(got)
            ) or (DIGITS.match(expected) and DIGITS.match(got)):
                try:
                    ids.learn(expected, got, path)
                except AssertionError as e:
                    diffs.append(str(e))
                return diffs
        if GENERATED_RUN_NAME.match(expected) and GENERATED_RUN_NAME.match(got):
            # a generated run name: same shape, and the same live name wherever it recurs
            try:
                ids.learn(expected, got, path)
            except AssertionError as e:
                diffs.append(str(e))
            return diffs
        # ids inside longer strings (artifact URIs)
        mapped = expected
        for rec, live in sorted(ids.fwd.items(), key=lambda kv: -len(kv[0])):
            if HEX32.match(rec) or MODEL_ID.match(rec):
                mapped = mapped.replace(rec, live)
        if mapped.startswith("mlflow-artifacts:/"):
            mapped = re.sub(r"^mlflow-artifacts:/(\d+)", lambda m: "mlflow-artifacts:/" + ids.map(m.group(1)), mapped)
        if mapped != got:
            diffs.append(f"{path}: expected {mapped!r}, got {got!r}")
        return diffs
    if key in SERVER_TIME_KEYS:
        if not (isinstance(got, int) and not isinstance(got, bool) and got > 10**12):
            diffs.append(f"{path}: expected a millisecond timestamp, got {got!r}")
        return diffs
    if expected is None or isinstance(expected, (bool, int, float)):
        if expected is None and got is None:
            return diffs
        if not _num_equal(expected, got):
            diffs.append(f"{path}: expected {expected!r}, got {got!r}")
        return diffs
    if expected != got:
        diffs.append(f"{path}: expected {expected!r}, got {got!r}")
    return diffs
