"""test_openapi.py — docs/openapi.json describes every route `trident serve` registers.

usage: test_openapi.py TRIDENT_BINARY

Three checks, standard library only:
- the document is OpenAPI 3 in structure: version, info, paths; every operation
  has responses with descriptions; every {param} of a path is declared as a
  required path parameter; operationIds are unique; every $ref resolves;
- every route the server's source registers is in it: the paths compared in
  src/server/*.c (`strcmp(x, "/...")`, `strncmp(x, "/.../", n)` prefixes, tables
  of `{"/...", ROUTE_...}`, `mg_set_request_handler` / `mg_set_websocket_handler`);
  a route registered in another form must be taught to route_literals() below;
- the running server serves this very document at GET /openapi.json and answers
  every documented operation (with placeholder parameters) with something other
  than its unknown-route 404 or its 405, so the document lists no route or
  method the server lacks.
"""
import glob
import json
import os
import re
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trident_client import Server, run_server_tests  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from trident_testing import check, test  # noqa: E402

BINARY = sys.argv[1]
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOC_PATH = os.path.join(ROOT, "docs", "openapi.json")
TMP = tempfile.mkdtemp(prefix="trident-openapi-test-")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
with open(DOC_PATH, "rb") as f:
    DOC_BYTES = f.read()
DOC = json.loads(DOC_BYTES)
server = None


def operations(doc):
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item, item[method]


def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


@test
def document_is_openapi_3_in_structure():
    check(re.fullmatch(r"3\.\d+\.\d+", DOC.get("openapi", "")), DOC.get("openapi"))
    check(DOC["info"]["title"] and DOC["info"]["version"], DOC["info"])
    check(isinstance(DOC["paths"], dict) and DOC["paths"], "no paths")
    ids = set()
    for path, method, item, op in operations(DOC):
        where = "%s %s" % (method.upper(), path)
        check(path.startswith("/"), path)
        check(isinstance(op.get("responses"), dict) and op["responses"], where + ": no responses")
        for code, resp in op["responses"].items():
            check(code == "default" or re.fullmatch(r"[1-5](\d\d|XX)", code), "%s: response %r" % (where, code))
            check("$ref" in resp or resp.get("description"), "%s: response %s has no description" % (where, code))
        check(op.get("operationId") and op["operationId"] not in ids, where + ": operationId missing or repeated")
        ids.add(op["operationId"])
        params = item.get("parameters", []) + op.get("parameters", [])
        declared = {p["name"] for p in params if p.get("in") == "path"}
        for p in params:
            check(p.get("in") in ("path", "query", "header", "cookie") and p.get("name"), (where, p))
            check(p["in"] != "path" or p.get("required") is True, (where, p))
            check("schema" in p or "content" in p, (where, p))
        check(declared == set(re.findall(r"\{([^}]+)\}", path)), "%s: path parameters %s" % (where, declared))
    for ref in refs(DOC):
        check(ref.startswith("#/"), ref)
        node = DOC
        for part in ref[2:].split("/"):
            check(isinstance(node, dict) and part in node, "unresolved $ref " + ref)
            node = node[part]
    check(len(ids) >= 20, "only %d operations" % len(ids))


def route_literals():
    """(exact paths, prefixes) the server's source registers."""
    exact, prefixes = set(), set()
    for src in sorted(glob.glob(os.path.join(ROOT, "src", "server", "**", "*.c"), recursive=True)):
        with open(src, encoding="utf-8") as f:
            text = f.read()
        for fn, lit in re.findall(r"\b(strn?(?:case)?cmp)\s*\(\s*[^,;()]+,\s*\"(/[^\"]*)\"", text):
            if " " in lit or "%" in lit:
                continue
            (prefixes if fn.startswith("strn") else exact).add(lit)
        exact.update(re.findall(r"\{\s*\"(/[^\" %]*)\"\s*,\s*ROUTE_", text))
        exact.update(re.findall(r"mg_set_(?:request|websocket)_handler\s*\(\s*[^,]+,\s*\"(/[^\"]*)\"", text))
    return exact, prefixes


@test
def every_route_the_server_registers_is_documented():
    exact, prefixes = route_literals()
    # the recogniser must see the routes we know of, or it checks nothing
    check({"/", "/health", "/ws/live", "/api/analyze", "/v1/audio/transcriptions", "/openapi.json"} <= exact, exact)
    check({"/api/calls/", "/v1/models/"} <= prefixes, prefixes)
    paths = set(DOC["paths"])
    missing = sorted(p for p in exact if p not in paths)
    check(not missing, "routes registered in src/server but missing from docs/openapi.json: %s" % missing)
    for prefix in prefixes:
        check(any(p.startswith(prefix) and p != prefix.rstrip("/") for p in paths) or prefix + "/" in paths,
              "no documented path under the registered prefix %s" % prefix)


def placeholder(path, item, op):
    """The path with every {param} filled: an enum's first value, an example, a UUID."""
    params = {p["name"]: p for p in item.get("parameters", []) + op.get("parameters", []) if p["in"] == "path"}

    def value(m):
        p = params[m.group(1)]
        schema = p.get("schema", {})
        if "enum" in schema:
            return schema["enum"][0]
        if "example" in p:
            return str(p["example"])
        return str(uuid.uuid4())
    return re.sub(r"\{([^}]+)\}", value, path)


def is_router_fallback(status, data):
    if status == 405:
        return True
    if status != 404:
        return False
    try:
        body = json.loads(data)
    except ValueError:
        return True
    return body == {"detail": "Not Found"} or (body.get("error") or {}).get("code") == "unknown_url"


@test
def the_server_serves_the_document_and_answers_every_documented_operation():
    global server
    server = Server(BINARY, ["--db", os.path.join(TMP, "calls.db")], log_path=os.path.join(TMP, "server.log")).start()
    status, headers, data = server.request("GET", "/openapi.json")
    check(status == 200 and headers["content-type"] == "application/json", (status, headers))
    check(data == DOC_BYTES, "GET /openapi.json is not docs/openapi.json as built")
    # the router's fallbacks are what this check tells apart
    check(is_router_fallback(*server.request("GET", "/no-such-route")[::2]))
    check(is_router_fallback(*server.request("GET", "/v1/no-such-route")[::2]))
    check(is_router_fallback(*server.request("DELETE", "/health")[::2]))
    for path, method, item, op in operations(DOC):
        url = placeholder(path, item, op)
        if "text/event-stream" in op.get("responses", {}).get("200", {}).get("content", {}):
            method = "head"  # a stream never ends: its head says whether the route is served
        status, _, data = server.request(method.upper(), url, b"" if method == "post" else None,
                                         {"Content-Length": "0"} if method == "post" else {})
        check(not is_router_fallback(status, data),
              "%s %s (%s) is documented but the server answers %d %s" % (method.upper(), path, url, status, data[:200]))
        # every enum value of a path parameter is a route too (e.g. each dispatch action)
        for p in item.get("parameters", []) + op.get("parameters", []):
            for v in p.get("schema", {}).get("enum", [])[1:] if p["in"] == "path" else []:
                u = re.sub(r"\{%s\}" % re.escape(p["name"]), v, path)
                u = placeholder(u, item, op)
                status, _, data = server.request(method.upper(), u, b"", {"Content-Length": "0"})
                check(not is_router_fallback(status, data), "%s %s: %d %s" % (method.upper(), u, status, data[:200]))
    check(server.stop() == 0)


def main():
    return run_server_tests("openapi", lambda: [server], TMP)


if __name__ == "__main__":
    sys.exit(main())
