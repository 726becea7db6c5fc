#!/usr/bin/env python3
"""The public API of a crate, one line per item, from rustdoc's JSON output.

Usage: public_api.py target/doc/<crate>.json [--counts]

Walks the crate from its root through public modules and `pub use` re-exports, skipping
`#[doc(hidden)]` items, and prints every reachable item with its signature: named items
(modules, structs, enums, traits, functions, constants, statics, type aliases, macros),
public fields, enum variants, inherent methods and associated items, and the trait
implementations of each public type. The output is sorted, so it is a stable snapshot
(`docs/public-api.txt`) that `.ci/run` compares against.
"""
import json
import sys

doc = json.load(open(sys.argv[1]))
index = doc["index"]
paths = doc["paths"]
lines = set()


def item(i):
    return index.get(str(i))


def hidden(it):
    for a in it.get("attrs") or []:
        s = a if isinstance(a, str) else json.dumps(a)
        if "hidden" in s and "doc" in s:
            return True
    return False


def path_name(p):
    if p is None:
        return "?"
    name = p.get("path") or p.get("name") or "?"
    return name.split("::")[-1] + args(p.get("args"))


def args(a):
    if not a:
        return ""
    if "angle_bracketed" in a:
        parts = []
        for g in a["angle_bracketed"].get("args", []):
            if "type" in g:
                parts.append(ty(g["type"]))
            elif "lifetime" in g:
                parts.append(g["lifetime"])
            elif "const" in g:
                parts.append(g["const"].get("expr", "_"))
            else:
                parts.append("_")
        for c in a["angle_bracketed"].get("constraints", []):
            b = c.get("binding") or {}
            if "equality" in b and isinstance(b["equality"], dict) and "type" in b["equality"]:
                parts.append(c["name"] + " = " + ty(b["equality"]["type"]))
            elif "constraint" in b:
                parts.append(c["name"] + ": " + bounds(b["constraint"]))
            else:
                parts.append(c["name"])
        return "<" + ", ".join(parts) + ">" if parts else ""
    if "parenthesized" in a:
        p = a["parenthesized"]
        out = "(" + ", ".join(ty(t) for t in p.get("inputs", [])) + ")"
        if p.get("output"):
            out += " -> " + ty(p["output"])
        return out
    return ""


def bounds(bs):
    out = []
    for b in bs or []:
        if "trait_bound" in b:
            out.append(path_name(b["trait_bound"]["trait"]))
        elif "outlives" in b:
            out.append(b["outlives"])
    return " + ".join(out)


def ty(t):
    if t is None:
        return "()"
    k, v = next(iter(t.items()))
    if k == "resolved_path":
        return path_name(v)
    if k == "primitive":
        return v
    if k == "generic":
        return v
    if k == "borrowed_ref":
        lt = (v.get("lifetime") or "") + " " if v.get("lifetime") else ""
        return "&" + lt + ("mut " if v.get("is_mutable") else "") + ty(v["type"])
    if k == "raw_pointer":
        return "*" + ("mut " if v.get("is_mutable") else "const ") + ty(v["type"])
    if k == "slice":
        return "[" + ty(v) + "]"
    if k == "array":
        return "[" + ty(v["type"]) + "; " + str(v["len"]) + "]"
    if k == "tuple":
        return "(" + ", ".join(ty(x) for x in v) + ")"
    if k == "impl_trait":
        return "impl " + bounds(v)
    if k == "dyn_trait":
        return "dyn " + " + ".join(path_name(x["trait"]) for x in v["traits"])
    if k == "qualified_path":
        return ty(v["self_type"]) + "::" + v["name"]
    if k == "function_pointer":
        return "fn(..)"
    return k


def generics(g):
    ps = []
    for p in (g or {}).get("params", []):
        kind = p["kind"]
        if "lifetime" in kind:
            if p["name"] != "'_":
                ps.append(p["name"])
        elif "type" in kind:
            if kind["type"].get("is_synthetic"):
                continue
            b = bounds(kind["type"].get("bounds"))
            ps.append(p["name"] + (": " + b if b else ""))
        elif "const" in kind:
            ps.append("const " + p["name"] + ": " + ty(kind["const"]["type"]))
    return "<" + ", ".join(ps) + ">" if ps else ""


def fn_sig(name, f):
    s = f["sig"]
    ins = []
    for n, t in s["inputs"]:
        if n == "self":
            ins.append(
                "self"
                if t.get("generic") == "Self"
                else ty(t).replace("Self", "self") if "borrowed_ref" in t else "self: " + ty(t)
            )
        else:
            ins.append(n + ": " + ty(t))
    out = " -> " + ty(s["output"]) if s.get("output") else ""
    return "fn " + name + generics(f.get("generics")) + "(" + ", ".join(ins) + ")" + out


ids = {"named": set(), "methods": set(), "fields": set(), "variants": set()}


def emit(line, kind, ident=None):
    lines.add(line)
    ids[kind].add(ident if ident is not None else line)


def impls_of(prefix, impl_ids):
    for i in impl_ids:
        imp = item(i)
        if imp is None:
            continue
        im = imp["inner"]["impl"]
        if im.get("is_synthetic") or im.get("blanket_impl") is not None:
            continue
        if im["trait"] is not None:
            # rustdoc also lists `impl From<ThisType> for Other` under ThisType: keep only
            # the impls for the type itself.
            target = (im.get("for") or {}).get("resolved_path") or {}
            if target.get("path", "").split("::")[-1] != prefix.split("::")[-1].split("<")[0]:
                continue
            lines.add("impl " + path_name(im["trait"]) + " for " + prefix)
            continue
        for j in im["items"]:
            m = item(j)
            if m is None or m.get("visibility") != "public" or hidden(m):
                continue
            if "function" in m["inner"]:
                emit(prefix + "::" + fn_sig(m["name"], m["inner"]["function"]), "methods", j)
            elif "assoc_const" in m["inner"]:
                emit(prefix + "::const " + m["name"] + ": " + ty(m["inner"]["assoc_const"]["type"]), "methods", j)
            else:
                emit(prefix + "::" + m["name"], "methods", j)


seen = set()


def walk_module(prefix, mod_id):
    if mod_id in seen:
        return
    seen.add(mod_id)
    m = item(mod_id)
    for i in m["inner"]["module"]["items"]:
        it = item(i)
        if it is None or hidden(it):
            continue
        inner = it["inner"]
        if "use" in inner:
            u = inner["use"]
            if it.get("visibility") != "public":
                continue
            target = item(u["id"]) if u.get("id") is not None else None
            if target is None:
                # a re-export from another crate: its name only
                emit(prefix + "::" + u["name"] + " (re-export of " + u["source"] + ")", "named")
                continue
            if u.get("is_glob"):
                if "module" in target["inner"]:
                    walk_module(prefix, u["id"])
                continue
            visit(prefix, u["name"], target, u["id"])
            continue
        if it.get("visibility") != "public":
            continue
        visit(prefix, it["name"], it, i)


def visit(prefix, name, it, i):
    inner = it["inner"]
    p = prefix + "::" + name
    kind = next(iter(inner))
    named = lambda line: emit(line, "named", i)
    if kind == "module":
        named("mod " + p)
        walk_module(p, i)
    elif kind == "struct":
        s = inner["struct"]
        named("struct " + p + generics(s.get("generics")))
        fields = s["kind"]
        if "plain" in fields:
            for f in fields["plain"]["fields"]:
                fi = item(f)
                if fi and fi.get("visibility") == "public" and not hidden(fi):
                    emit(p + "." + fi["name"] + ": " + ty(fi["inner"]["struct_field"]), "fields", f)
        elif "tuple" in fields:
            for n, f in enumerate(fields["tuple"]):
                fi = item(f) if f is not None else None
                if fi and fi.get("visibility") == "public":
                    emit(p + "." + str(n) + ": " + ty(fi["inner"]["struct_field"]), "fields", f)
        impls_of(p, s["impls"])
    elif kind == "enum":
        e = inner["enum"]
        named("enum " + p + generics(e.get("generics")))
        for v in e["variants"]:
            vi = item(v)
            if vi is None:
                continue
            vk = vi["inner"]["variant"]["kind"]
            shape = ""
            if isinstance(vk, dict) and "tuple" in vk:
                shape = "(" + ", ".join(ty(item(f)["inner"]["struct_field"]) for f in vk["tuple"] if f is not None) + ")"
            elif isinstance(vk, dict) and "struct" in vk:
                shape = " { " + ", ".join(item(f)["name"] + ": " + ty(item(f)["inner"]["struct_field"]) for f in vk["struct"]["fields"]) + " }"
            emit(p + "::" + vi["name"] + shape, "variants", v)
        impls_of(p, e["impls"])
    elif kind == "trait":
        t = inner["trait"]
        named("trait " + p)
        for j in t["items"]:
            m = item(j)
            if m and "function" in m["inner"]:
                emit(p + "::" + fn_sig(m["name"], m["inner"]["function"]), "methods", j)
    elif kind == "function":
        named(fn_sig(p, inner["function"]))
    elif kind == "constant":
        named("const " + p + ": " + ty(inner["constant"]["type"]))
    elif kind == "static":
        named("static " + p + ": " + ty(inner["static"]["type"]))
    elif kind == "type_alias":
        named("type " + p + " = " + ty(inner["type_alias"]["type"]))
    elif kind == "macro":
        named("macro " + p)
    else:
        named(kind + " " + p)


root = doc["root"]
crate = item(root)["name"]
walk_module(crate, root)
if "--counts" in sys.argv:
    print(
        f"named items: {len(ids['named'])}, methods: {len(ids['methods'])}, "
        f"fields: {len(ids['fields'])}, variants: {len(ids['variants'])}"
    )
else:
    for line in sorted(lines):
        print(line)
