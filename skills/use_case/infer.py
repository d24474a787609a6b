"""Heuristics of the offline use-case planner: what a plain description says.

Everything here is deterministic text work: keywords give the task type, lists in the text give
labels, fields or tools (spelled as written), phrases like "for our support agents" give the users,
"we have a few thousand labeled memos" gives the person's own data. What cannot be read from the
text is left as None so the guide asks for it. The draft built from these facts is in drafting.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TASK_PATTERNS: list[tuple[str, str]] = [
    ("tool_calling", r"\b(tool[- ]?call\w*|function[- ]call\w*|call(s|ing)?\s+(the\s+right\s+|a\s+|our\s+|one\s+of\s+(our\s+)?)?"
                     r"(tools?|functions?|apis?)\b|pick(s|ing)?\s+(the\s+right\s+)?(tool|function)\w*)"),
    ("text_to_sql", r"\btext[- ]to[- ]sql\b|\b(into|to|as|in|write\w*|generat\w*|produc\w*)\s+(an?\s+)?(sql|sqlite|postgres\w*|mysql)\b"
                    r"|\bsql\s+(quer(y|ies)|statements?)\s+(for|from|that|over|against)\b"),
    ("extraction", r"\b(extract\w*|pull\w* out|parse[sd]?|parsing)\b|\bfield extraction\b|\b(pull|get|take|lift)\w*\b[^.]{1,80}?\bout\s+of\b"
                   r"|\b(as|in|into|to)\s+(an?\s+)?(structured\s+)?json\b"),
    ("math", r"\b(arithmetic|math\w*|word problems?|calculat\w*|equations?|unit[- ]conversions?|convert\w* units?)\b"
             r"|\bpercentages?\s+(word\s+)?problems?\b|\b(work\w*\s+out|comput\w*|figur\w*\s+out)\s+(the\s+)?(discounts?|tips?|"
             r"tax(es)?|interest|change|sale\s+prices?|totals?)\b"),
    ("classification", r"\b(categori[sz]\w*|classif\w*|label(s|ing|led)?\b|tag(s|ging)?\b|triage\w*|(sort|put|file|bucket)\w*\b.{0,60}?"
                       r"\binto\b|rout(e|es|ed|ing)\b|sentiment|spam|intents?\b|grad(e|es|ing)\b|scor(e|es|ing)\b.{0,40}\b\d\s*(-|to|–)\s*\d"
                       r"|rat(e|es|ing)\b.{0,40}\b\d\s*(-|to|–)\s*\d|detect\w*\s+(the\s+)?(language|topic|intent)"
                       r"|\b(assign|map|send|forward|dispatch|direct)\w*\b[^.;!?]{0,60}?\bto\s+(one\s+of\b|the\s+(right|correct|appropriate|matching)\b|[\w-]+(\s[\w-]+)?\s*,\s*[\w-]+)"
                       r"|\b(tell|say|decid|determin|check|predict|flag|detect|judg|know|mark)\w*\s+(me\s+|us\s+)?whether\b[^.;!?]{0,80}?\b(is|are|was|sounds?|looks?|seems?|reads?)\s+(an?\s+)?[\w-]+\s+or\s+(an?\s+)?[\w-]+\b"
                       r"|\b(in|to|into)\s+one\s+of\s+(\w+\s+){0,3}(queues|categories|classes|labels|buckets|groups|bins|types)\b)"),
    ("summarization", r"\b(summar\w*|tl;?dr|condens\w*|digest)\b"),
    ("rewriting", r"\b(rewrit\w*|rephras\w*|paraphras\w*|translat\w*|simplif\w*|proofread\w*|polish\w*|plain[- ](english|language))\b"),
    ("question_answering", r"\b(answer\w* (\w+ ){0,2}questions|q&a|faqs?|question answering)\b"),
    ("generation", r"\b(draft\w*|writ(e|es|ing)\b|generat\w*|compos\w*|repl(y|ies)|respon[sd]\w*)"),
    ("chat", r"\b(chat\w*|conversation\w*)\b"),
]
"""Task type from keywords, first match wins (extraction before classification: 'extract labels')."""

NOUNS = (
    "transaction", "invoice", "receipt", "email", "e-mail", "ticket", "review", "message", "request",
    "document", "article", "contract", "clause", "word problem", "problem", "question", "tweet", "post",
    "resume", "cv", "order", "note", "report", "comment", "claim", "log", "chat", "call", "command",
    "transcript", "description", "listing", "form", "statement", "complaint", "inquiry", "inquiries", "query", "queries",
    "expense", "payment", "purchase", "product", "record", "entry", "entries", "case", "memo", "answer", "utterance",
    "chatbot",
)
"""Singular stems of things people customize models for; the subject is the first one named."""
STOP = {"our", "the", "a", "an", "my", "their", "your", "all", "each", "every", "incoming", "of", "into", "from",
        "to", "for", "and", "that", "which", "these", "those", "some", "any", "new", "model", "in", "on", "with",
        "categorizes", "categorize", "classify", "classifies", "extract", "extracts", "draft", "drafts", "solve",
        "solves", "summarize", "summarizes", "answer", "answers", "rewrite", "rewrites", "write", "writes",
        "label", "labels", "tag", "tags", "sort", "sorts", "triage", "route", "routes", "need", "want", "i", "we",
        "translate", "translates", "pull", "pulls", "out", "help", "helps", "read", "reads", "check", "checks",
        "put", "puts", "grade", "grades", "turn", "turns", "detect", "detects", "make", "makes", "friendly",
        "reply", "replies", "short", "two-line", "plain", "give", "gives", "using", "only", "over", "about"}

NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUM = r"(\d{1,3}|" + "|".join(NUMBER_WORDS) + r")"
_GROUP = r"(?:categories|classes|labels|buckets|types|groups|tags|queues|intents|topics|teams|departments|classes|grades|options)"
_COUNT = re.compile(r"\b" + _NUM + r"\s+(?:\w+\s+)?" + _GROUP + r"\b", re.I)
_LIST_INTRO = re.compile(r"\b(?:into|as(?: either)?|labels?:|categories:|classes:|buckets:|one of:?|either)\s+", re.I)
_GROUP_LIST = re.compile(r"\b" + _GROUP + r"\s*(?::|\bare\b:?|\blike\b|\bsuch as\b|\bnamely\b|\(|—|–)\s*", re.I)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.+?)\s*$")
_FIELDS_INTRO = re.compile(
    r"\b(?:extract\w*|pull\w* out|fields?:?|capture)\s+(?:the\s+|their\s+|its\s+)?(?:fields?\s*:?\s*)?(.+?)"
    r"(?:\s+(?:from|out of|in)\s+|[.;!?](?:\s|$)|$)", re.I)
_FIELDS_OUT = re.compile(r"\b(?:pull|get|take|lift)\w*\s+(?:the\s+|their\s+|its\s+)?([^.;!?]{3,120}?)\s+out\s+of\b", re.I)
"""'Pull the order number, date and total out of emails'."""
_FIELDS_LIST = re.compile(
    r"\b(?:json(?:\s+object)?|fields?|keys|properties|columns)\s*(?:with(?:\s+the)?(?:\s+(?:fields?|keys))?\s*:?|:|\(|—|–"
    r"|like|such as|namely)\s*(.+?)(?:\)|[.;!?](?:\s|$)|$)", re.I)
_USER_NOUNS = (
    "team|teams|agents|staff|analysts|accountants|engineers|reviewers|customers|users|clerks|department|app|application|"
    "pipeline|system|service|bot|students|teachers|lawyers|doctors|nurses|managers|operators|employees|members|visitors|"
    "readers|patients|clients|partners|developers|editors|writers|auditors|moderators|guests|residents|homeowners|"
    "shoppers|buyers|sellers|drivers|technicians|dispatchers|planners|recruiters|marketers|tutors|graders|instructors|"
    "learners|owners|admins|administrators|agency|office")
_USERS = re.compile(
    r"\b(?:for|used by|by|helps?|so that|so|to help)\s+((?:(?:our|the|my|their)\s+)?(?:[\w-]+\s+){0,3}?"
    r"(?:" + _USER_NOUNS + r"))\b", re.I)
_USED_BY = re.compile(r"\b(?:used|read|reviewed|seen|handled) by\s+((?:(?:our|the|my|their)\s+)?[A-Za-z-]+(?:\s+[A-Za-z-]+){0,2}?)"
                      r"(?=\s*[.,;!?]|\s+(?:and|who|to|when|for|in|on|at)\b|\s*$)", re.I)
"""Who uses the answers when they are not one of the known user nouns ("used by the pharmacists")."""
_CONSTRAINT = re.compile(r"\b(must|never|always|should not|shouldn't|don't|do not|no more than|at most|within|"
                         r"under \d+|only in|in (english|german|french|spanish))\b", re.I)
_INPUT = re.compile(r"\b(?:each|every|an?|the|one)\s+input\s+(?:is|will be)\s+([^;.]+)", re.I)
_OUTPUT = re.compile(r"\b(?:each|every|an?|the|one)\s+(?:answer|output|reply)\s+(?:is|should be|must be)\s+([^;.]+)", re.I)
_LENGTH = re.compile(r"\b(?:under|at most|no more than|max(?:imum)?|within)\s+(\d+)\s*(words|characters|chars|sentences)\b", re.I)
_LINES = re.compile(r"\b" + _NUM + r"[- ]lines?\b|\bin\s+" + _NUM + r"\s+lines\b", re.I)
_NUMBER_ONLY = re.compile(r"\b(?:answer\w*|repl\w*|respond\w*|return\w*|output\w*|give\w*)\s+(?:with\s+|by\s+)?(?:just\s+|only\s+)?"
                          r"(?:the\s+|a\s+|one\s+)?(?:final\s+|single\s+)?(?:number|numeric\s+value|value)\b"
                          r"|\b(?:just|only)\s+the\s+(?:final\s+)?(?:number|answer|result)\b"
                          r"|\b(?:the\s+)?(?:final\s+)?(?:answer|result|number)\s+only\b|\bno\s+(?:working|steps|explanation)\b", re.I)
_SCALE = re.compile(r"\b(?:scale|score|grade|rating|rate|points?)\b[^.]{0,30}?\b(?:from\s+|of\s+)?(\d)\s*(?:-|to|–|through)\s*(\d{1,2})\b", re.I)
_TOOL_NAME = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
_DATA_PATH = re.compile(r"(?:^|(?<=[\s\"'`(]))((?:~|\.{1,2})?/?(?:[\w.~-]+/)*[\w.~-]+\.(?:jsonl|json|csv|tsv|parquet|md|txt|xlsx|arrow))\b"
                        r"|(?i:data (?:file|folder)):\s*(\S+)")
DATA_FILE_INTRO = re.compile(r"(?i:my data (?:file|folder)):\s*(\S+)")
"""How `tunesmith run --describe T --data FILE` names the file in the first message."""

TONE_WORDS = ("warm", "human", "friendly", "empathetic", "caring", "kind", "polite", "professional", "formal",
              "casual", "playful", "cheerful", "calm", "reassuring", "apologetic", "enthusiastic", "respectful",
              "plain english", "plain language", "simple", "clear", "concise", "upbeat", "personal")
"""Words a person uses for the voice of the answers; the tone tenet uses the ones they said."""

_HAS_DATA = re.compile(
    r"\b(?:we|i)(?:'ve|\s+have|\s+already\s+have|\s+got|'ve\s+got|\s+keep|\s+collected|\s+saved|\s+exported|\s+can\s+provide)\b"
    r"|\b(?:here (?:is|are)|attached|i(?:'ll| will) provide|provided|given)\b[^.]{0,40}\b(?:data|examples|pairs|file|document|faq|dataset|records)"
    r"|\b(?:our|my)\s+(?:existing|historical|past|old|own|labeled|labelled|annotated)\s+(?:data|examples|records|emails|tickets|reviews)", re.I)
_NO_DATA = re.compile(r"\b(?:no|don't have|do not have|without)\s+(?:any\s+)?(?:data|examples|labeled|training data)\b", re.I)
_DATA_WORDS = re.compile(r"\b(data|dataset|examples?|pairs|records|rows|file|csv|jsonl|spreadsheet|document|faq|manual|handbook|"
                         r"logs?|history|archive|labell?ed|tagged|routed|graded|annotated|memos|emails|tickets|reviews|"
                         r"transcripts|conversations|answers|replies|commands|questions|problems|reports|summaries|clauses|rewrites|solved|samples|"
                         r"\d[\d,]*)\b", re.I)
DATA_KIND_PATTERNS: list[tuple[str, str]] = [
    ("preference_pairs", r"\bpairs?\b.{0,80}\b(prefer\w*|better|worse|chosen|rejected|one\s+\w+\s+\w*\s*(and|while)\s+(one|the other))|"
                         r"\bpreference\b|\bchosen\b.{0,20}\brejected\b"),
    ("reference_document", r"\b(faq|document|manual|handbook|policy|policies|knowledge base|docs|documentation|wiki|guide)\b"),
    ("conversations", r"\b(conversations|chat logs|dialogues|transcripts)\b"),
    ("labeled_examples", r"\b(label\w*|tagged|routed|categori[sz]ed|classified|graded|annotated|sorted)\b"),
    ("input_output_pairs", r"\b(examples?|pairs|question.{0,10}answer|before.{0,10}after|inputs? and outputs?|solved|answered)\b"
                           r"|\bwith\s+(?:their\s+|the\s+)?(summar\w+|answers?|rewrites?|repl\w+|solutions?|translations?|responses?)\b"),
]


@dataclass
class Facts:
    """What the description says, as far as the heuristics can tell (None = not said)."""

    description: str
    task_type: str | None = None
    subject: str = "input"
    labels: list[str] | None = None
    label_count: int | None = None
    facets: dict[str, list[str]] | None = None
    """Several label sets to fill at once ("a sentiment (...) and topics like ..."): name -> allowed values."""
    fields: list[str] | None = None
    tools: list[str] | None = None
    """The tool names a tool-calling model may call, as written."""
    primary_users: str | None = None
    base_model: str | None = None
    constraints: list[str] = field(default_factory=list)
    max_chars: int | None = None
    lines: int | None = None
    """The exact number of lines an answer has, when the description says ("two-line summaries")."""
    number_only: bool = False
    """The answer is a bare number ("answered with a number")."""
    tone: list[str] = field(default_factory=list)
    """The words the person used for the voice of the answers ("warm", "human")."""
    own_data: dict | None = None
    """What they said about data of their own (the OwnData fields), or None when they said nothing."""
    input_hint: str | None = None
    """What one input is, when the description says ("each input is one transaction line ...")."""
    output_hint: str | None = None
    """What one answer is, when the description says ("the answer is just the category")."""


def infer_task(text: str) -> str | None:
    for task, pattern in TASK_PATTERNS:
        if re.search(pattern, text, re.I):
            return task
    return None


def split_items(text: str) -> list[str]:
    """'food, travel and rent' / '1. food\\n2. travel' -> ['food', 'travel', 'rent'] (order kept, no repeats)."""
    text = re.sub(r"\s+(?:and|or|&)\s+", ",", text.strip())
    items = []
    for raw in re.split(r"[,;\n/|]+", text):
        item = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", raw).strip().strip("\"'`“”.:()[]").strip()
        item = re.sub(r"^(?:and|or)\s+", "", item)
        if item and item.lower() not in [i.lower() for i in items]:
            items.append(item)
    return items


def _short_items(body: str, words: int = 3) -> list[str] | None:
    body = re.split(r"\s+(?:for|so|because|based on|using|with|from|by|to|when|if|depending)\s+", body, maxsplit=1)[0]
    items = split_items(body)
    return items if len(items) >= 2 and all(len(i.split()) <= words for i in items) else None


def bulleted(raw: str) -> list[str] | None:
    """The items of the first numbered or bulleted list in the text (two or more lines)."""
    run: list[str] = []
    for line in raw.splitlines():
        found = _BULLET.match(line)
        if found:
            run.append(found.group(1).strip().strip("\"'`“”.:").strip())
        elif run:
            break
    return run if len(run) >= 2 else None


def _clause(text: str, closing: str = "") -> str:
    """The list at the start of ``text``, up to the end of its sentence. A semicolon ends it, unless the
    semicolons are the list's own separators ('Billing; Technical; Sales')."""
    rest = re.split(r"[.!?" + closing + r"](?:\s|$)" + (r"|\)" if closing else ""), text, maxsplit=1)[0]
    head, semi, _ = rest.partition(";")
    if semi and re.search(r",|\s(?:and|or)\s", head):
        return head
    return rest


def _listed(body: str) -> list[str] | None:
    """Quoted labels are taken whole ("'Food & Drink', 'Travel'"); otherwise the short items of the list."""
    quoted = re.findall(r"[\"“']([^\"“”']{1,40})[\"”']", body)
    if len(quoted) >= 2 and not re.sub(r"[\"“']([^\"“”']{1,40})[\"”']|[\s,;/|]|\b(?:and|or)\b", "", body).strip():
        return [q.strip() for q in quoted]
    return _short_items(body)


_GROUP_OF_LIST = re.compile(r"\b" + _GROUP + r"\s+(?:of|for)\s+(?:[\w-]+\s+){1,3}?(?:like|such as|namely|:|\()\s*", re.I)
"""'intents of smart-home commands like turn_on_light, ...'."""
_LIST_THEN_GROUP = re.compile(r"\b(?:to|into|among|between|across)\s+(?:the\s+|our\s+)?((?:[\w-]+\s*){1,3}(?:,\s*(?:[\w-]+\s*){1,3})*"
                              r",?\s+(?:and|or)\s+(?:[\w-]+\s*){1,3}?)\s+" + _GROUP + r"\b", re.I)
"""'Route emails to billing, tech support, sales, and hr queues'."""
_WHETHER = re.compile(r"\bwhether\b[^.;!?]{0,80}?\b(?:is|are|was|sounds?|looks?|seems?|reads?)\s+(?:an?\s+)?([\w-]+)\s+or\s+(?:an?\s+)?([\w-]+)\b", re.I)
"""'Tell me whether each review is Positive or Negative' -> Positive, Negative."""
_PAREN_LIST = re.compile(r"\(([^()]{3,200})\)")


_ROUTE_TO = re.compile(r"\b(?:rout|send|assign|map|forward|direct|dispatch|escalat|move)\w*\b[^.;!?:]{0,60}?\bto\s+"
                       r"(?:one\s+of:?\s+|either\s+)?", re.I)
"""'Route tickets to NETWORK, HARDWARE or OTHER': the list after the verb's 'to'."""


def _labels_from(text: str) -> list[str] | None:
    for match in _ROUTE_TO.finditer(text):
        rest = re.sub(r"\s+" + _GROUP + r"\b.*$", "", _clause(text[match.end():]), flags=re.I)  # '..., and hr queues'
        if not re.match(r"(our|their|my|the|your|a|an|one|\d+)\b", rest.strip(), re.I) and (items := _listed(rest)):
            return items
    for pattern in (_GROUP_LIST, _GROUP_OF_LIST):
        for match in pattern.finditer(text):
            items = _listed(_clause(text[match.end():], ")"))
            if items:
                return items
    for match in _LIST_INTRO.finditer(text):
        rest = _clause(text[match.end():])
        rest = re.sub(r"^(?:the\s+)?(?:categories|classes|labels|buckets)\s*:?\s*", "", rest, flags=re.I)
        if re.match(r"(our|their|my|the|your|a|an|one)\b|\d+\b", rest.strip(), re.I):
            continue
        items = _listed(rest)
        if items:
            return items
    grouped = _LIST_THEN_GROUP.search(text)
    if grouped and (items := _short_items(grouped.group(1))):
        return items
    colon = re.search(r":\s*([^:]+?)(?:[.!?](?:\s|$)|$)", text)
    if colon and (items := _listed(_clause(colon.group(1)))):
        return items
    whether = _WHETHER.search(text)
    if whether:  # 'whether an email is spam or not' -> spam, not spam
        first, second = whether.group(1), whether.group(2)
        return [first, f"not {first}" if second.lower() in ("not", "no") else second]
    for match in _PAREN_LIST.finditer(text):  # 'by sentiment (positive, negative, neutral)'
        items = _listed(match.group(1))
        if items and len(items) >= 2 and not any(re.search(r"\d", i) for i in items):
            return items
    return None


def _facets_from(text: str) -> dict[str, list[str]] | None:
    """'a sentiment (positive, neutral, negative) and topics like price, quality' -> two named label sets."""
    found: dict[str, list[str]] = {}
    pattern = re.compile(r"\b([a-z][a-z_-]+)\s*(?:\(([^)]+)\)|(?:like|such as|among|from)\s+([^.;()]+?)(?=\s+and\s+(?:an?\s+|the\s+)?"
                         r"[a-z_-]+\s*(?:\(|like\b|such as\b)|[.;]|$))", re.I)
    for match in pattern.finditer(text):
        name, values = match.group(1).lower(), _short_items(match.group(2) or match.group(3) or "")
        if values and name not in STOP and name not in ("one", "labels", "categories"):
            found[name] = values
    return found if len(found) >= 2 else None


def _fields_from(text: str, raw: str) -> list[str] | None:
    listed = bulleted(raw)
    if listed and all(len(i.split()) <= 4 for i in listed):
        return [snake(i) for i in listed]
    for pattern in (_FIELDS_LIST, _FIELDS_INTRO, _FIELDS_OUT):
        for match in pattern.finditer(text):
            items = [snake(i) for i in split_items(match.group(1))]
            items = [i for i in items if i and i not in ("fields", "data", "information", "info", "json", "details")]
            if len(items) >= 2 and all(len(i.split("_")) <= 4 for i in items):
                return items
    return None


def _tools_from(text: str, raw: str) -> list[str] | None:
    listed = bulleted(raw)
    if listed:
        names = [_TOOL_NAME.search(i).group(0) if _TOOL_NAME.search(i) else snake(i) for i in listed]
        return list(dict.fromkeys(names))
    intro = re.search(r"\b(?:tools?|functions?|apis?)\s*(?::|\(|\bare\b|\blike\b|\bsuch as\b)\s*([^.;)]+)", text, re.I)
    if intro:
        items = _short_items(intro.group(1))
        if items:
            return [snake(i) if " " in i else i for i in items]
    names = list(dict.fromkeys(_TOOL_NAME.findall(text)))
    return names if len(names) >= 2 else None


def snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60]


def singular(phrase: str) -> str:
    words = phrase.split()
    if not words:
        return phrase
    last = words[-1]
    if last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith(("sses", "xes", "ches")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    return " ".join([*words[:-1], last])


def _subject(text: str) -> str:
    lowered = text.lower()
    best = None
    for noun in NOUNS:
        match = re.search(r"(?<!\bthat )(?<!\bwhich )(?<!\bwho )(?<!\bto )(?<!\bit )\b" + re.escape(noun)
                          + r"(s|es)?\b(?!\s+(?:the|a|an|one|our|my|it|them|is|was)\b)", lowered)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), match.group(0))
    if best is None:
        return "input"
    after = re.match(r"\s+([a-z-]+)", lowered[best[0] + len(best[1]):])
    if after and any(re.fullmatch(re.escape(noun) + r"(s|es)?", after.group(1)) for noun in NOUNS):
        best = (best[0], f"{best[1]} {after.group(1)}")  # "payment emails": the last noun names the thing
    before = [w for w in re.findall(r"[a-z][a-z'-]*", lowered[: best[0]])][-2:]
    before = [w for w in before if not w.endswith("'")]
    while before and before[0] in STOP:
        before = before[1:]
    if before and before[-1] in STOP:
        before = []
    subject = " ".join([*before, best[1]])
    written = re.search(r"\s+".join(map(re.escape, subject.split())), text, re.I)
    if written and re.search(r"\b[A-Z]{2,}\b", written.group(0)):  # "IT helpdesk tickets": an acronym keeps its case
        return re.sub(r"\b(?![A-Z]{2,}\b)\w+", lambda m: m.group(0).lower(), written.group(0))
    return subject


def _number(word: str) -> int | None:
    word = word.lower()
    return int(word) if word.isdigit() else NUMBER_WORDS.get(word)


def own_data(text: str) -> dict | None:
    """What the words say about the person's own data: the OwnData fields, or None when they say nothing."""
    named = DATA_FILE_INTRO.search(text)
    path_match = named or _DATA_PATH.search(text)
    path = (path_match.group(1) or (path_match.group(2) if path_match.lastindex and path_match.lastindex > 1 else None)) \
        if path_match else None
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if _NO_DATA.search(sentence) and not path:
            return {"has_data": False, "kind": "unknown", "described_as": sentence.strip(), "path": None}
        if not (_HAS_DATA.search(sentence) and _DATA_WORDS.search(sentence)) and not (path and path in sentence):
            continue
        kind = next((k for k, pattern in DATA_KIND_PATTERNS if re.search(pattern, sentence, re.I)), "unknown")
        return {"has_data": True, "kind": kind, "described_as": sentence.strip(), "path": path}
    if path:
        return {"has_data": True, "kind": "unknown", "described_as": None, "path": path}
    return None


def infer(description: str, task: str | None = None) -> Facts:
    """Read what the person's description says (``task``: the task type when the person named it)."""
    raw = description or ""
    text = " ".join(raw.split())
    task = task or infer_task(text)
    facts = Facts(description=text, task_type=task, subject=_subject(text))
    facts.own_data = own_data(text)
    plain = _DATA_PATH.sub(" ", text)  # a data file's path is no base model and no label
    if task == "classification":
        facts.facets = _facets_from(plain)
        facts.labels = None if facts.facets else (bulleted(raw) or _labels_from(plain))
        scale = _SCALE.search(plain)
        if facts.labels is None and not facts.facets and scale and int(scale.group(1)) < int(scale.group(2)) <= 20:
            facts.labels = [str(n) for n in range(int(scale.group(1)), int(scale.group(2)) + 1)]
    count = _COUNT.search(plain)
    if count:
        facts.label_count = _number(count.group(1))
    if task == "extraction":
        facts.fields = _fields_from(plain, raw)
    if task == "tool_calling":
        facts.tools = _tools_from(plain, raw)
    users = _USERS.search(plain) or _USED_BY.search(plain)
    if users:
        facts.primary_users = users.group(1)
    if facts.labels and facts.subject != "input":
        label_words = {w.lower() for label in facts.labels for w in re.findall(r"[A-Za-z]+", label)}
        if set(re.findall(r"[a-z]+", facts.subject.lower())) & label_words:  # the subject came from the label list
            masked = re.sub(r"\b(?:" + "|".join(map(re.escape, sorted(label_words, key=len, reverse=True))) + r")\b",
                            " ; ", text, flags=re.I)
            facts.subject = _subject(masked)
    model = re.search(r"(?:^|\s)((?:~|\.{1,2})?/[\w.~/-]*[\w-])|(embedded:[\w.-]+|\b[\w.-]+/[\w.-]*\d[\w.-]*\b)", plain)
    if model:
        facts.base_model = model.group(1) or model.group(2)
    sentences = re.split(r"(?<=[.!?])\s+", text)
    facts.constraints = [s.strip() for s in sentences[1:] if _CONSTRAINT.search(s)]
    length = _LENGTH.search(text)
    if length:
        n, unit = int(length.group(1)), length.group(2).lower()
        facts.max_chars = n * {"words": 7, "sentences": 150}.get(unit, 1)
    lines = _LINES.search(text)
    if lines:
        facts.lines = _number(lines.group(1) or lines.group(2))
    facts.number_only = task == "math" and bool(_NUMBER_ONLY.search(text))
    lowered = text.lower()
    facts.tone = [w for w in TONE_WORDS if re.search(r"\b" + w + r"\b", lowered)]
    for pattern, name in ((_INPUT, "input_hint"), (_OUTPUT, "output_hint")):
        found = pattern.search(text)
        if found:
            phrase = found.group(1).strip()
            setattr(facts, name, phrase[:1].upper() + phrase[1:] + ".")
    return facts


BANK_LABELS = ["groceries", "dining", "transport", "subscriptions", "utilities", "rent", "entertainment", "shopping",
               "health", "travel", "income", "transfers"]
"""The bundled demo's categories: proposed only for a bank-transaction task."""
SUGGESTED_FIELDS: dict[str, list[str]] = {
    "invoice": ["invoice_number", "invoice_date", "vendor_name", "total_amount", "currency", "due_date"],
    "receipt": ["merchant", "date", "total_amount", "currency", "payment_method"],
    "resume": ["name", "email", "phone", "current_title", "years_experience", "skills"],
    "contract": ["parties", "effective_date", "term", "governing_law", "termination_notice"],
}
"""Standard fields of a document kind, proposed only when that kind is what the text is about."""


def labels_in_data(facts: Facts) -> tuple[list[str], str] | None:
    """The labels of the person's own labeled data file named in the description (most frequent first) and the
    file's name, when it reads as text + label data with 2 to 50 labels; None otherwise (no file, unreadable,
    another format). The person still confirms them."""
    from pathlib import Path

    from synth import importing

    path = (facts.own_data or {}).get("path")
    if not path:
        return None
    source = Path(str(path)).expanduser()
    try:
        rows = importing.read_table(source, limit=5000)
    except (importing.DataFileError, OSError, ValueError, ImportError):
        return None
    labels = importing.propose(rows).labels if rows else []
    return (labels, source.name) if 2 <= len(labels) <= 50 else None


def suggested_labels(facts: Facts) -> list[str] | None:
    """Labels to propose when the description names none: only what its own words support."""
    if re.search(r"\bbank\b", facts.description, re.I) and "transaction" in facts.subject:
        return BANK_LABELS
    if re.search(r"\bsentiment\b", facts.description, re.I):
        return ["positive", "neutral", "negative"]
    return None


def suggested_fields(facts: Facts) -> list[str] | None:
    head = singular(facts.subject.split()[-1]) if facts.subject != "input" else ""
    return SUGGESTED_FIELDS.get(head)


def label_pattern(labels: list[str]) -> str:
    return "^(?:" + "|".join(re.escape(label) for label in labels) + ")$"
