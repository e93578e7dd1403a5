"""A small parser for include/ipcshm.h and ipcshm/decl.h: enough C to compare
prototypes, struct fields and enum values (not a general C parser)."""
import re


def _strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _strip_preprocessor(text):
    # C++-only regions (extern "C" { ... }) go with their #ifdef.
    text = re.sub(r"#ifdef __cplusplus.*?#endif", " ", text, flags=re.S)
    text = re.sub(r"\\\n", " ", text)           # continuation lines
    return re.sub(r"^[ \t]*#[^\n]*", " ", text, flags=re.M)


def defines(text):
    """{NAME: value} of the header's integer #defines (simple ones only)."""
    text = _strip_comments(text)
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^#define\s+(\w+)\s+(\d+)\s*$", text, re.M)}


def normalize(decl):
    decl = re.sub(r"\s+", " ", decl).strip()
    return re.sub(r"\s*([*(),])\s*", r"\1", decl)


def _statements(text):
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == ";" and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        raise ValueError("trailing text without ';': %r" % "".join(cur).strip())
    return out


def _eval_int(expr):
    expr = re.sub(r"(?<=\d)[uUlL]+\b", "", expr.strip())
    if not re.fullmatch(r"[0-9xXa-fA-F()<>|+\s]+", expr):
        raise ValueError("not a simple integer expression: %r" % expr)
    return eval(expr, {"__builtins__": {}})   # digits and operators only (checked)


def parse(text, export_macro="IPCSHM_EXPORT"):
    """{'prototypes': {name: normalized}, 'structs': {name: [(type, field)]},
        'enums': {NAME: value}, 'typedefs': [normalized]}"""
    text = _strip_preprocessor(_strip_comments(text))
    text = re.sub(r"\b%s\b" % export_macro, " ", text)
    text = re.sub(r"\bIPCSHM_NOEXCEPT\b", " ", text)   # empty in C
    result = {"prototypes": {}, "structs": {}, "enums": {}, "typedefs": []}
    for st in _statements(text):
        if not st:
            continue
        if st.startswith("enum"):
            body = st[st.index("{") + 1:st.rindex("}")]
            value = -1
            for item in filter(None, (i.strip() for i in body.split(","))):
                if "=" in item:
                    k, v = item.split("=", 1)
                    value = _eval_int(v)
                else:
                    k, value = item, value + 1
                result["enums"][k.strip()] = value
        elif st.startswith("typedef struct") and "{" in st:
            body = st[st.index("{") + 1:st.rindex("}")]
            alias = st[st.rindex("}") + 1:].strip()
            fields = []
            for part in filter(None, (p.strip() for p in body.split(";"))):
                decls = part.split(",")
                first = decls[0].split()
                ftype = " ".join(first[:-1])
                for fname in [first[-1]] + [d.strip() for d in decls[1:]]:
                    fields.append((ftype, fname))
            result["structs"][alias] = fields
        elif st.startswith("typedef"):
            result["typedefs"].append(normalize(st))
        elif "(" in st:
            decl = normalize(st)
            fname = re.search(r"(\w+)\(", decl).group(1)
            result["prototypes"][fname] = decl
        else:
            raise ValueError("unexpected declaration: %r" % st)
    return result


def signature(decl):
    """('restype', ['argtype', ...]) of a normalized prototype, names dropped and
    'const' ignored: 'const char*' -> 'char*'."""
    m = re.fullmatch(r"(.*?)(\w+)\((.*)\)", decl)
    restype, _, params = m.groups()

    def clean(t):
        t = re.sub(r"\bconst\b", " ", t)
        return re.sub(r"\s+", "", t)

    args = []
    if params.strip() not in ("", "void"):
        for p in params.split(","):
            p = re.sub(r"\b\w+$", "", p.strip()) if re.search(r"[\s*]\w+$", p.strip()) else p
            args.append(clean(p))
    return clean(restype), args
