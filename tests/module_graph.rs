//! The files of `src/` depend on each other in one direction: this test
//! reads every `crate::`, `super::`, `self::` (and child-module) path of the
//! library, resolves it to the file that defines the module it names, and
//! fails listing every circle among those files.
//!
//! Why files and not modules: a circle is what a reader meets when one file
//! cannot be understood without another that needs the first back. A parent
//! declaring `mod child;` is not an edge (it only places the child); a
//! re-export (`pub use child::Thing`) is one, from the file that re-exports
//! to the file it takes the name from. A path is an edge to the file that
//! binds its name, not to where a re-export chain finally leads: `use
//! crate::a::Thing` depends on `a`'s file, which depends on `child`'s. So a
//! child that imports through its parent's re-exports, while the parent
//! re-exports the child, closes a circle.
//!
//! The reading is lexical on purpose (no compiler, no extra dependency):
//! comments, strings and character literals are dropped, then paths are read
//! from the tokens, inside `use` trees and in code and macro bodies alike.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// One module of the crate: the file it lives in and its path from the root.
#[derive(Debug, Clone)]
struct Module {
    file: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    PathSep,
    Punct(char),
}

/// Drops comments, string, byte-string, raw-string and char literals, keeping
/// lifetimes (`'a`) harmless.
fn strip(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
            continue;
        }
        // Raw strings: r"..", r#".."#, br#".."#.
        if (c == 'r' || (c == 'b' && next == Some('r')))
            && !chars
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            let mut j = i + if c == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) == Some(&'"') {
                j += 1;
                loop {
                    if j >= chars.len() {
                        break;
                    }
                    if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                i = j;
                out.push_str("\"\"");
                continue;
            }
        }
        if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
            continue;
        }
        if c == '\'' {
            // A char literal is 'x' or '\..'; a lifetime is 'ident without a
            // closing quote right after one character.
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push(' ');
                continue;
            }
            if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push(' ');
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = strip(source).chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // `r#type` and the like: a raw identifier is the identifier.
            if word == "r" && chars.get(i) == Some(&'#') {
                i += 1;
                continue;
            }
            out.push(Token::Ident(word));
            continue;
        }
        if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Punct('0'));
            continue;
        }
        if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push(Token::PathSep);
            i += 2;
            continue;
        }
        if !c.is_whitespace() {
            out.push(Token::Punct(c));
        }
        i += 1;
    }
    out
}

/// A `mod` declaration: `mod name;` (with an optional `#[path = ".."]`
/// before it) or an inline `mod name { .. }`.
struct Declaration {
    name: String,
    path_attr: Option<String>,
    inline: bool,
    test_only: bool,
}

/// The `mod` declarations of a file, read from its lines: `#[path]` needs
/// the string the token reader drops.
fn module_declarations(source: &str) -> Vec<Declaration> {
    let mut found = Vec::new();
    let mut path_attr: Option<String> = None;
    let mut test_only = false;
    for line in source.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("#[path = \"") {
            path_attr = rest.split('"').next().map(str::to_string);
            continue;
        }
        if line == "#[cfg(test)]" {
            test_only = true;
            continue;
        }
        if line.starts_with("#[") || line.starts_with("//") {
            continue;
        }
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == ';' || c == '{')
            .filter(|w| !w.is_empty())
            .collect();
        if let Some(at) = words.iter().position(|w| *w == "mod") {
            let visibility_only = words[..at]
                .iter()
                .all(|w| *w == "pub" || w.starts_with("pub("));
            let inline = line.contains('{');
            if visibility_only && (line.ends_with(';') || inline) {
                if let Some(name) = words.get(at + 1) {
                    found.push(Declaration {
                        name: name.to_string(),
                        path_attr: path_attr.take(),
                        inline,
                        test_only,
                    });
                }
            }
        }
        path_attr = None;
        test_only = false;
    }
    found
}

/// Every module of the library outside tests, from `lib.rs` down through
/// `mod` declarations, keyed by its path from the crate root, with the file
/// it lives in (an inline module lives in its parent's file).
fn modules(src: &Path) -> BTreeMap<Vec<String>, Module> {
    let mut out = BTreeMap::new();
    let mut todo = vec![(Vec::<String>::new(), src.join("lib.rs"))];
    while let Some((path, file)) = todo.pop() {
        let source = fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let owns_its_dir = path.is_empty() || file.file_name().is_some_and(|n| n == "mod.rs");
        let children_dir = if owns_its_dir {
            file.parent().unwrap().to_path_buf()
        } else {
            file.with_extension("")
        };
        for declared in module_declarations(&source) {
            // Tests may reach anything: nothing imports them.
            if declared.test_only {
                continue;
            }
            let mut child = path.clone();
            child.push(declared.name.clone());
            if declared.inline {
                out.insert(child, Module { file: file.clone() });
                continue;
            }
            let name = &declared.name;
            let child_file = match declared.path_attr {
                Some(p) => file.parent().unwrap().join(p),
                None => {
                    let flat = children_dir.join(format!("{name}.rs"));
                    if flat.exists() {
                        flat
                    } else {
                        children_dir.join(name).join("mod.rs")
                    }
                }
            };
            assert!(
                child_file.exists(),
                "{} declares `mod {name};` but {} does not exist",
                file.display(),
                child_file.display()
            );
            todo.push((child, child_file));
        }
        out.insert(path, Module { file });
    }
    out
}

/// One path a `use` tree names: its segments and the name it brings into
/// scope (the last segment, the module before `self`, or the `as` name);
/// `None` for a glob.
type Imported = (Vec<String>, Option<String>);

/// The paths a `use` tree names, starting at `at` (just after `use`);
/// returns them and the index after the tree.
fn use_tree(tokens: &[Token], mut at: usize, prefix: Vec<String>) -> (Vec<Imported>, usize) {
    let mut path = prefix;
    let mut out = Vec::new();
    let bound = |path: &Vec<String>| -> Option<String> {
        match path.last().map(String::as_str) {
            Some("self") => path.get(path.len().wrapping_sub(2)).cloned(),
            last => last.map(str::to_string),
        }
    };
    loop {
        match tokens.get(at) {
            Some(Token::Ident(word)) if word == "as" => {
                let name = match tokens.get(at + 1) {
                    Some(Token::Ident(name)) if name != "_" => Some(name.clone()),
                    _ => None,
                };
                out.push((path.clone(), name));
                return (out, at + 2);
            }
            Some(Token::Ident(word)) => {
                path.push(word.clone());
                at += 1;
            }
            Some(Token::PathSep) => at += 1,
            Some(Token::Punct('{')) => {
                at += 1;
                loop {
                    match tokens.get(at) {
                        Some(Token::Punct('}')) => {
                            at += 1;
                            break;
                        }
                        Some(Token::Punct(',')) => at += 1,
                        None => break,
                        _ => {
                            let (inner, next) = use_tree(tokens, at, path.clone());
                            out.extend(inner);
                            at = next;
                        }
                    }
                }
                return (out, at);
            }
            Some(Token::Punct('*')) => {
                out.push((path.clone(), None));
                return (out, at + 1);
            }
            _ => {
                let name = bound(&path);
                out.push((path, name));
                return (out, at);
            }
        }
    }
}

/// What one module's code names and imports.
#[derive(Default)]
struct Reading {
    /// Paths its code and its `use` lines (re-exports included) name, each
    /// with the module it was named from (the file's own or an inline one).
    named: Vec<(Vec<String>, Vec<String>)>,
    /// Modules it re-exports whole (`pub use crate::m as n;`): an edge to
    /// that module's file, which naming a module otherwise is not.
    re_exported_modules: Vec<(Vec<String>, Vec<String>)>,
    /// Names its `use` lines bring into scope, re-exports included, as
    /// absolute paths: what `super::Name` from a child, or `module::Name`
    /// from anywhere, finds there.
    scope: BTreeMap<String, Vec<String>>,
}

/// Reads one file: the paths its code names, and the names its `use` lines
/// bring into each module's scope.
fn read_file(
    file: &Path,
    own: &[String],
    modules: &BTreeMap<Vec<String>, Module>,
    readings: &mut BTreeMap<Vec<String>, Reading>,
) {
    let source = fs::read_to_string(file).unwrap();
    let tokens = tokens(&source);
    // Which module each token sits in: the file's own, or an inline
    // `mod name { .. }` inside it; inline test modules are skipped whole.
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let here_of = |stack: &[(String, usize)]| {
        let mut here = own.to_vec();
        here.extend(stack.iter().map(|(n, _)| n.clone()));
        here
    };
    let cfg_test = [
        Token::Punct('#'),
        Token::Punct('['),
        Token::Ident("cfg".into()),
        Token::Punct('('),
        Token::Ident("test".into()),
        Token::Punct(')'),
        Token::Punct(']'),
    ];
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i..].starts_with(&cfg_test) {
            // Skip the item the attribute guards: to its `;` or its block.
            let mut j = i + cfg_test.len();
            let mut inner = 0usize;
            while j < tokens.len() {
                match tokens[j] {
                    Token::Punct(';') if inner == 0 => break,
                    Token::Punct('{') => inner += 1,
                    Token::Punct('}') => {
                        inner -= 1;
                        if inner == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            i = j + 1;
            continue;
        }
        match &tokens[i] {
            Token::Punct('{') => {
                depth += 1;
                i += 1;
            }
            Token::Punct('}') => {
                if stack.last().is_some_and(|(_, d)| *d == depth) {
                    stack.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            Token::Ident(word)
                if word == "mod"
                    && matches!(tokens.get(i + 1), Some(Token::Ident(_)))
                    && tokens.get(i + 2) == Some(&Token::Punct('{')) =>
            {
                if let Some(Token::Ident(name)) = tokens.get(i + 1) {
                    stack.push((name.clone(), depth + 1));
                }
                i += 2;
            }
            Token::Ident(word) if word == "use" => {
                // `pub use` hands names on; a plain `use` is the file's own.
                let re_export = tokens[..i]
                    .iter()
                    .rev()
                    .take(4)
                    .any(|t| *t == Token::Ident("pub".into()));
                let (paths, next) = use_tree(&tokens, i + 1, Vec::new());
                let here = here_of(&stack);
                for (path, bound) in paths {
                    let absolute = absolute(&path, &here, modules);
                    let reading = readings.entry(here.clone()).or_default();
                    if let (Some(name), Some(absolute)) = (bound, absolute) {
                        reading.scope.insert(name, absolute);
                    }
                    if re_export {
                        reading
                            .re_exported_modules
                            .push((here.clone(), path.clone()));
                    }
                    reading.named.push((here.clone(), path));
                }
                i = next;
            }
            Token::Ident(word) if i == 0 || tokens[i - 1] != Token::PathSep => {
                // A path in code: `word::next::..`.
                let mut path = vec![word.clone()];
                let mut j = i + 1;
                while tokens.get(j) == Some(&Token::PathSep) {
                    match tokens.get(j + 1) {
                        Some(Token::Ident(next)) => {
                            path.push(next.clone());
                            j += 2;
                        }
                        _ => break,
                    }
                }
                if path.len() > 1 {
                    let here = here_of(&stack);
                    readings
                        .entry(here.clone())
                        .or_default()
                        .named
                        .push((here, path));
                }
                i = j.max(i + 1);
            }
            _ => i += 1,
        }
    }
}

/// A path made absolute: `crate::`, `self::`, `super::` and a child module's
/// name resolved from `here`; `None` for paths outside the crate (or names
/// this reading cannot place, such as a local type's associated item).
fn absolute(
    path: &[String],
    here: &[String],
    modules: &BTreeMap<Vec<String>, Module>,
) -> Option<Vec<String>> {
    let first = path.first()?;
    let (mut base, rest) = match first.as_str() {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (here.to_vec(), &path[1..]),
        "super" => {
            let mut base = here.to_vec();
            let mut i = 0;
            while path.get(i).map(String::as_str) == Some("super") {
                base.pop()?;
                i += 1;
            }
            (base, &path[i..])
        }
        name => {
            let mut child = here.to_vec();
            child.push(name.to_string());
            if !modules.contains_key(&child) {
                return None;
            }
            (here.to_vec(), path)
        }
    };
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The file a path takes its name from: that of the longest prefix that is
/// a module. Whether the name is defined there or only imported (`pub use`)
/// there, that file is what the path depends on; an import goes on from it
/// as that file's own edge.
fn binding_file(path: &[String], modules: &BTreeMap<Vec<String>, Module>) -> Option<PathBuf> {
    let mut module = Vec::new();
    let mut at = 0;
    while at < path.len() {
        let mut next = module.clone();
        next.push(path[at].clone());
        if !modules.contains_key(&next) {
            break;
        }
        module = next;
        at += 1;
    }
    // Naming a module itself (`use crate::aws::ecs;`, `{self, ..}`) takes
    // nothing from its file; the paths through it do.
    if path.get(at).is_none_or(|name| name == "self") {
        return None;
    }
    modules.get(&module).map(|m| m.file.clone())
}

/// The file of the module a path names whole (`crate::m`, `crate::m::self`).
fn module_file(path: &[String], modules: &BTreeMap<Vec<String>, Module>) -> Option<PathBuf> {
    let path = match path.last().map(String::as_str) {
        Some("self") => &path[..path.len() - 1],
        _ => path,
    };
    modules.get(path).map(|m| m.file.clone())
}

/// The files each file's code takes names from, as edges between files.
fn file_edges(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let modules = modules(src);
    let mut own_module: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for (path, module) in &modules {
        // A file's own module is the shortest path living in it.
        let entry = own_module
            .entry(module.file.clone())
            .or_insert_with(|| path.clone());
        if path.len() < entry.len() {
            *entry = path.clone();
        }
    }
    let mut readings = BTreeMap::new();
    for (file, own) in &own_module {
        read_file(file, own, &modules, &mut readings);
    }
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = own_module
        .keys()
        .map(|f| (f.clone(), BTreeSet::new()))
        .collect();
    for reading in readings.values() {
        for (here, path) in &reading.named {
            let from = &modules[here].file;
            let absolute = absolute(path, here, &modules).or_else(|| {
                // `alias::rest` where `use` brought `alias` into scope.
                let target = readings.get(here)?.scope.get(&path[0])?;
                let mut joined = target.clone();
                joined.extend(path[1..].iter().cloned());
                Some(joined)
            });
            let Some(absolute) = absolute else { continue };
            if let Some(to) = binding_file(&absolute, &modules) {
                if &to != from {
                    edges.get_mut(from).unwrap().insert(to);
                }
            }
        }
        for (here, path) in &reading.re_exported_modules {
            let from = &modules[here].file;
            let Some(absolute) = absolute(path, here, &modules) else {
                continue;
            };
            if let Some(to) = module_file(&absolute, &modules) {
                if &to != from {
                    edges.get_mut(from).unwrap().insert(to);
                }
            }
        }
    }
    edges
}

/// Strongly connected components of more than one file (Tarjan).
fn circles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct State<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        on_stack: BTreeSet<&'a PathBuf>,
        stack: Vec<&'a PathBuf>,
        next: usize,
        found: Vec<Vec<PathBuf>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a PathBuf) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        let edges = s.edges;
        for w in edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        on_stack: BTreeSet::new(),
        stack: Vec::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.found
}

fn describe(
    circle: &[PathBuf],
    edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
    root: &Path,
) -> String {
    let members: BTreeSet<&PathBuf> = circle.iter().collect();
    let name = |p: &PathBuf| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let mut text = String::new();
    for from in circle {
        for to in edges.get(from).into_iter().flatten() {
            if members.contains(to) {
                text.push_str(&format!("    {} -> {}\n", name(from), name(to)));
            }
        }
    }
    text
}

#[test]
fn no_import_circle_among_the_files_of_src() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let edges = file_edges(&root.join("src"));
    let found = circles(&edges);
    let report: Vec<String> = found
        .iter()
        .map(|c| {
            format!(
                "a circle of {} files:\n{}",
                c.len(),
                describe(c, &edges, root)
            )
        })
        .collect();
    assert!(
        found.is_empty(),
        "files of src/ import each other in a circle; move what both sides need \
         to the lower side:\n{}",
        report.join("\n")
    );
}

#[test]
fn the_reading_follows_use_trees_code_paths_and_re_exports() {
    // A small crate on disk, so the reader itself is checked.
    let dir = std::env::temp_dir().join(format!("module_graph_{}", std::process::id()));
    let src = dir.join("src");
    fs::create_dir_all(src.join("a")).unwrap();
    let write = |name: &str, text: &str| fs::write(src.join(name), text).unwrap();
    write("lib.rs", "pub mod a;\npub mod b;\npub mod c;\n");
    write(
        "a/mod.rs",
        "pub mod x;\npub mod y;\n#[cfg(test)]\nmod t;\n\
         // use crate::c::C; in a comment is no edge\npub use x::X;\n",
    );
    write(
        "a/x.rs",
        "use super::{y::{self, Y}};\npub struct X(Y);\nfn f() -> u8 { y::y() }\n\
         #[cfg(test)]\nmod tests {\n    use crate::c::*;\n}\n",
    );
    write(
        "a/y.rs",
        "pub struct Y;\npub fn y() -> u8 { crate::b::value() }\n",
    );
    write(
        "b.rs",
        "use crate::a::X;\npub fn value() -> u8 { let _ = \"crate::c::c\"; 1 }\n",
    );
    write(
        "c.rs",
        "use crate::a;\npub fn c<'a>(s: &'a str) -> char { let _ = a::y::y(); 'x' }\n",
    );
    let edges = file_edges(&src);
    let name = |p: &PathBuf| p.strip_prefix(&src).unwrap().display().to_string();
    let of = |f: &str| -> Vec<String> { edges[&src.join(f)].iter().map(name).collect() };
    assert_eq!(
        of("a/mod.rs"),
        vec!["a/x.rs"],
        "a re-export is an edge to what it re-exports"
    );
    assert_eq!(of("a/x.rs"), vec!["a/y.rs"], "test modules are left out");
    assert_eq!(of("a/y.rs"), vec!["b.rs"]);
    assert_eq!(
        of("b.rs"),
        vec!["a/mod.rs"],
        "a name taken through a re-export counts against the file that re-exports"
    );
    assert_eq!(
        of("c.rs"),
        vec!["a/y.rs"],
        "an imported module's path is followed"
    );
    let found: Vec<Vec<String>> = circles(&edges)
        .iter()
        .map(|c| c.iter().map(name).collect())
        .collect();
    assert_eq!(found, vec![vec!["a/mod.rs", "a/x.rs", "a/y.rs", "b.rs"]]);
    fs::remove_dir_all(&dir).unwrap();
}

/// Writes a small crate under a fresh temporary directory and returns its
/// `src/` and the edges read from it.
fn synthetic(
    name: &str,
    files: &[(&str, &str)],
) -> (PathBuf, BTreeMap<PathBuf, BTreeSet<PathBuf>>) {
    let dir = std::env::temp_dir().join(format!("module_graph_{name}_{}", std::process::id()));
    let src = dir.join("src");
    for (file, text) in files {
        let path = src.join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    let edges = file_edges(&src);
    (src, edges)
}

fn circle_names(src: &Path, edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<String>> {
    circles(edges)
        .iter()
        .map(|c| {
            c.iter()
                .map(|p| p.strip_prefix(src).unwrap().display().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn a_circle_through_a_parents_re_export_is_found() {
    // The parent re-exports both children; one child takes the other's
    // name through the parent. Followed to its source, `super::Two` is
    // one.rs -> two.rs and no circle shows; it is one.rs -> mod.rs, and
    // mod.rs re-exports one.rs: a reader of one.rs needs mod.rs, which
    // needs one.rs back.
    let (src, edges) = synthetic(
        "parent",
        &[
            ("lib.rs", "pub mod p;\n"),
            (
                "p/mod.rs",
                "mod one;\nmod two;\npub use one::One;\npub use two::Two;\n",
            ),
            ("p/one.rs", "use super::Two;\npub struct One(Two);\n"),
            ("p/two.rs", "pub struct Two;\n"),
        ],
    );
    assert_eq!(
        circle_names(&src, &edges),
        vec![vec!["p/mod.rs", "p/one.rs"]]
    );
    fs::remove_dir_all(src.parent().unwrap()).unwrap();
}

#[test]
fn a_circle_through_a_re_export_elsewhere_is_found() {
    // The circle the last session missed: `top.rs` registers what `low.rs`
    // holds and re-exports `low`'s context under its own name; `low.rs`
    // imports that name from `top.rs`. Followed to its source the import
    // is low.rs -> ctx.rs; it is low.rs -> top.rs.
    let (src, edges) = synthetic(
        "elsewhere",
        &[
            ("lib.rs", "pub mod ctx;\npub mod low;\npub mod top;\n"),
            ("ctx.rs", "pub struct Ctx;\n"),
            (
                "top.rs",
                "pub use crate::ctx::Ctx;\nfn f() { crate::low::run() }\n",
            ),
            (
                "low.rs",
                "use crate::top::Ctx;\npub fn run() { let _: Option<Ctx> = None; }\n",
            ),
        ],
    );
    assert_eq!(circle_names(&src, &edges), vec![vec!["low.rs", "top.rs"]]);
    fs::remove_dir_all(src.parent().unwrap()).unwrap();
}

#[test]
fn a_module_re_exported_whole_is_an_edge() {
    // `pub use crate::m as alias;` hands on a whole module: the file that
    // re-exports it depends on that module's file.
    let (src, edges) = synthetic(
        "whole",
        &[
            ("lib.rs", "pub mod m;\npub mod n;\n"),
            ("m.rs", "pub fn f() { crate::n::g() }\n"),
            ("n.rs", "pub use crate::m as alias;\npub fn g() {}\n"),
        ],
    );
    assert_eq!(circle_names(&src, &edges), vec![vec!["m.rs", "n.rs"]]);
    fs::remove_dir_all(src.parent().unwrap()).unwrap();
}
