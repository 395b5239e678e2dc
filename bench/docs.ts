/**
 * docs/benchmarks.md holds one `## ` section per benchmark. Each benchmark rewrites only its own
 * section(s), so running one never erases the figures another wrote.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";

interface Parsed {
  /** Everything before the first `## ` heading (the `# Benchmarks` title). */
  preamble: string;
  sections: { heading: string; body: string }[];
}

function parse(markdown: string): Parsed {
  const lines = markdown.split("\n");
  const preamble: string[] = [];
  const sections: { heading: string; body: string }[] = [];
  let current: { heading: string; lines: string[] } | null = null;
  const close = () => {
    if (current) sections.push({ heading: current.heading, body: current.lines.join("\n").replace(/\n+$/, "\n") });
  };
  for (const line of lines) {
    if (line.startsWith("## ")) {
      close();
      current = { heading: line, lines: [line] };
    } else if (current) current.lines.push(line);
    else preamble.push(line);
  }
  close();
  return { preamble: preamble.join("\n").replace(/\n+$/, "\n"), sections };
}

/** Sections of `markdown` replace the same-titled sections of the file (or are appended). */
export function mergeSections(existing: string, markdown: string): string {
  const old = parse(existing);
  const incoming = parse(markdown);
  const sections = [...old.sections];
  for (const section of incoming.sections) {
    const at = sections.findIndex((s) => s.heading === section.heading);
    if (at >= 0) sections[at] = section;
    else sections.push(section);
  }
  const preamble = old.sections.length || old.preamble.trim() ? old.preamble : incoming.preamble;
  return [preamble.trimEnd(), ...sections.map((s) => s.body.trimEnd())].filter((s) => s !== "").join("\n\n") + "\n";
}

export function writeSections(file: string, markdown: string): void {
  writeFileSync(file, mergeSections(existsSync(file) ? readFileSync(file, "utf8") : "", markdown));
}
