"""The content folder a community manager edits, one module per content kind, each reading
its files and naming every problem with its file and line:

- `entries`: knowledge entries (`knowledge/**/*.md`);
- `networks`: the subject-matter networks (`networks.yml`);
- `lesson_paths`: learning paths (`lessons/*.yml`);
- `badge_rules`: reaction points and badges (`badges.yml`);
- `small_talk`: what Eddy answers to "hi" and "thanks" (`small_talk.yml`);

with what they share (`problems`, `limits`), the checker of the whole folder (`check`), and
the `catalogue`: the loaded content as Eddy serves it, synced to the database so that every
process serves the same, and the last good version while a file is broken. `bot.knowledge`
is the search index over the catalogue's entries; `bot.importers` reads other tools' exports
(Confluence, Notion, docs folders, FAQ sheets, Word) into pages that can become entries.
"""
