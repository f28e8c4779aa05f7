// container-runtimes.txt ("containerd /usr/bin/containerd" per line) → names of runtimes already installed.
import { lines, safely, type Parsed } from "./util.js";

/** The first word of each non-empty line whose second word is an absolute path. */
export function parseContainerRuntimes(text: string): Parsed<string[]> {
  return safely("container-runtimes.txt", [], (sink) => {
    const names: string[] = [];
    for (const line of lines(text)) {
      if (line.trim() === "") continue;
      const [name, path] = line.trim().split(/\s+/);
      if (name && path?.startsWith("/") && /^[a-z0-9_.-]+$/i.test(name)) {
        if (!names.includes(name)) names.push(name);
      } else sink.add(`unreadable line "${line.slice(0, 80)}"`);
    }
    return names;
  });
}
