#!/usr/bin/env python3
"""derive-known-words.py — writes data/content/known.tsv: the real English words
(Debian's wbritish, /usr/share/dict/british-english) of 6 letters or more that are
one edit away from a lexicon word of 6 letters or more and are not lexicon words
themselves ("sitting" is not a misspelt "fitting", "shouting" not "shooting").
The content extractor never corrects a known word. Development time only:

    apt-get install wbritish
    scripts/derive-known-words.py data/content /usr/share/dict/british-english
"""
import os
import re
import sys

MIN = 6  # LEX_FUZZY_MIN in src/content/lexicon.h


def words_of(text):
    """Normalises like lex_word_next: lowercase, apostrophes dropped, other punctuation separates."""
    text = text.lower().replace("'", "").replace("\u2019", "").replace("\u2018", "")
    return [w for w in re.split(r"[^a-z0-9\x80-\uffff]+", text) if w]


def lexicon_words(data):
    words = set()
    with open(os.path.join(data, "lexicon.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if cols[0] == "known":
                continue
            words.update(words_of(cols[2]))
            if cols[0] == "spelling":
                words.update(words_of(cols[1]))
    for name in ("gazetteer.tsv", "places.tsv"):
        path = os.path.join(data, name)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                cols = line.rstrip("\n").split("\t")
                words.update(words_of(cols[1]))
                if len(cols) > 5:
                    words.update(words_of(cols[5]))
    return words


def deletions(w):
    return {w[:i] + w[i + 1:] for i in range(len(w))}


def osa1(a, b):
    """Is the optimal string alignment distance of a and b exactly 1?"""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    ra, rb = a[i:], b[i:]
    if len(ra) == len(rb):
        return ra[1:] == rb[1:] or (len(ra) >= 2 and ra[0] == rb[1] and ra[1] == rb[0] and ra[2:] == rb[2:])
    if len(ra) == len(rb) + 1:
        return ra[1:] == rb
    return ra == rb[1:]


def main():
    data, dictionary = sys.argv[1], sys.argv[2]
    lex = lexicon_words(data)
    targets = {w for w in lex if len(w) >= MIN and w.isascii() and w.isalpha()}
    index = {}
    for t in targets:
        index.setdefault(t, set()).add(t)
        for d in deletions(t):
            index.setdefault(d, set()).add(t)
    known = set()
    with open(dictionary, encoding="utf-8") as f:
        for line in f:
            ws = words_of(line.strip())
            if len(ws) != 1:
                continue
            w = ws[0]
            if len(w) < MIN or not w.isascii() or not w.isalpha() or w in lex:
                continue
            cands = set(index.get(w, ()))
            for d in deletions(w):
                cands |= index.get(d, set())
                if d in targets:
                    cands.add(d)
            if any(osa1(w, c) for c in cands):
                known.add(w)
    out = os.path.join(data, "known.tsv")
    with open(out, "w", encoding="utf-8") as f:
        f.write("# known.tsv — real words never read as a misspelling of a lexicon word (lexicon.tsv format,\n"
                "# category `known`). Derived by scripts/derive-known-words.py from Debian's wbritish word list\n"
                "# (%s): its words of %d letters or more one edit away from a lexicon word. Do not edit;\n"
                "# add hand-picked known words to lexicon.tsv.\n" % (os.path.basename(dictionary), MIN))
        for w in sorted(known):
            f.write("known\t-\t%s\n" % w)
    print("%s: %d known words" % (out, len(known)))


if __name__ == "__main__":
    main()
