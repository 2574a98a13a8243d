//! The master's layout, held by a test: its top-level modules depend on one another without a
//! cycle, so the layers point one way (the HTTP layer on top; the domain's services below it;
//! the fleet, metrics, the request's facts and the configuration at the bottom), and nothing
//! below `http/` takes the HTTP layer's state. A change that ties two modules into a loop fails
//! here with the loop named.

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("the master's sources") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// A file's code without its tests (by convention the last item of a file).
    fn without_tests(text: &str) -> &str {
        text.find("#[cfg(test)]").map_or(text, |at| &text[..at])
    }

    /// The top-level modules a piece of code names through `crate::`.
    fn named(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group
                    .split('}')
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .map(|n| n.trim().split("::").next().unwrap_or(""))
                    .collect(),
                None => vec![rest
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("")],
            };
            found.extend(
                names
                    .into_iter()
                    .filter(|n| modules.contains(*n))
                    .map(String::from),
            );
        }
        found
    }

    struct Layout {
        src: PathBuf,
        /// Module → the modules it names, and the files that do.
        edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    }

    fn layout() -> Layout {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let top = |p: &Path| -> String {
            let rel = p.strip_prefix(&src).expect("under src");
            let first = rel.components().next().expect("a component");
            let name = first.as_os_str().to_string_lossy();
            name.trim_end_matches(".rs").to_string()
        };
        let modules: BTreeSet<String> = files
            .iter()
            .map(|f| top(f))
            .filter(|m| m != "lib")
            .collect();
        let mut edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for file in &files {
            let module = top(file);
            if module == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(file).expect("a source file");
            let rel = file.strip_prefix(&src).unwrap().display().to_string();
            for to in named(without_tests(&text), &modules) {
                if to != module {
                    edges
                        .entry(module.clone())
                        .or_default()
                        .entry(to)
                        .or_default()
                        .insert(rel.clone());
                }
            }
        }
        Layout { src, edges }
    }

    /// A cycle through `from`, if there is one: the modules in order.
    fn cycle_from(
        layout: &Layout,
        from: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == from) {
            let mut cycle = path[at..].to_vec();
            cycle.push(from.to_string());
            return Some(cycle);
        }
        if done.contains(from) {
            return None;
        }
        path.push(from.to_string());
        for to in layout.edges.get(from).into_iter().flat_map(|e| e.keys()) {
            if let Some(c) = cycle_from(layout, to, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(from.to_string());
        None
    }

    #[test]
    fn the_masters_modules_depend_on_each_other_without_a_cycle() {
        let layout = layout();
        assert!(
            layout.edges.len() > 5,
            "the sources were read from {}",
            layout.src.display()
        );
        let mut done = BTreeSet::new();
        for module in layout.edges.keys() {
            if let Some(cycle) = cycle_from(&layout, module, &mut Vec::new(), &mut done) {
                let hops: Vec<String> = cycle
                    .windows(2)
                    .map(|w| {
                        let files = &layout.edges[&w[0]][&w[1]];
                        format!(
                            "{} -> {} ({})",
                            w[0],
                            w[1],
                            files.iter().cloned().collect::<Vec<_>>().join(", ")
                        )
                    })
                    .collect();
                panic!(
                    "the master's modules form a cycle:\n  {}",
                    hops.join("\n  ")
                );
            }
        }
    }

    #[test]
    fn nothing_below_http_takes_its_state_or_names_it() {
        let layout = layout();
        let above_http: Vec<&String> = layout
            .edges
            .iter()
            .filter(|(_, to)| to.contains_key("http"))
            .map(|(from, _)| from)
            .collect();
        assert!(
            above_http.is_empty(),
            "these modules call up into http/: {above_http:?}"
        );
    }

    #[test]
    fn the_reader_sees_grouped_and_plain_paths() {
        let modules: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
        let found = named(
            "use crate::a::X;\nuse crate::{b::Y, c};\nlet z = crate::zz;",
            &modules,
        );
        assert_eq!(found, modules);
        assert_eq!(
            without_tests("code\n#[cfg(test)]\nmod tests { crate::a }"),
            "code\n"
        );
    }
}
