//! Property tests (inside the crate: they reach private modules): manifest parsing and the tar writer (round trip through our reader and
//! through the independent `tar` crate reader).

use std::io::Read;

use crate::manifest::{parse_manifest, LineKind, ManifestLine};
use crate::tarfmt::{encode_header, padding, EntryType, HeaderSpec, TarReader, EOA_LEN};
use proptest::prelude::*;

fn kind() -> impl Strategy<Value = LineKind> {
    prop_oneof![
        Just(LineKind::File),
        Just(LineKind::Exec),
        Just(LineKind::Generated),
        Just(LineKind::Symlink),
        Just(LineKind::Linkof),
        Just(LineKind::Dir),
        Just(LineKind::Empty),
        Just(LineKind::Tree),
    ]
}

fn field() -> impl Strategy<Value = String> {
    // anything but TAB, newline, CR (refused as CRLF at a line end) and NUL (refused in
    // symlink targets), non-empty
    "[^\t\n\r\x00]{1,40}"
}

fn line() -> impl Strategy<Value = (LineKind, String, String)> {
    (kind(), field(), field())
}

fn component() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_.-]{1,40}",
        "[a-z]{60,120}",
        "[\\u{80}-\\u{7ff}\\u{4e00}-\\u{4e80}a-z]{1,30}",
    ]
    .prop_filter("no . or ..", |c| c != "." && c != "..")
}

fn tar_path() -> impl Strategy<Value = String> {
    prop::collection::vec(component(), 1..6).prop_map(|v| v.join("/"))
}

#[derive(Debug, Clone)]
struct Ent {
    path: String,
    kind: EntryType,
    mode: u32,
    uid: u64,
    gid: u64,
    content: Vec<u8>,
    link: String,
}

fn ent() -> impl Strategy<Value = Ent> {
    (
        tar_path(),
        prop_oneof![
            Just(EntryType::File),
            Just(EntryType::Dir),
            Just(EntryType::Symlink)
        ],
        prop_oneof![Just(0o644u32), Just(0o755u32)],
        prop_oneof![Just(0u64), 0u64..5_000_000_000],
        prop_oneof![Just(0u64), 0u64..5_000_000_000],
        prop::collection::vec(any::<u8>(), 0..1500),
        tar_path(),
    )
        .prop_map(|(path, kind, mode, uid, gid, content, link)| Ent {
            content: if kind == EntryType::File {
                content
            } else {
                Vec::new()
            },
            link: if kind == EntryType::Symlink {
                link
            } else {
                String::new()
            },
            mode: if kind == EntryType::Symlink {
                0o777
            } else {
                mode
            },
            path,
            kind,
            uid,
            gid,
        })
}

fn write_tar(ents: &[Ent]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in ents {
        encode_header(
            &HeaderSpec {
                path: &e.path,
                kind: e.kind,
                mode: e.mode,
                uid: e.uid,
                gid: e.gid,
                size: e.content.len() as u64,
                mtime: 946_684_800,
                link: &e.link,
            },
            &mut out,
        );
        out.extend_from_slice(&e.content);
        out.resize(out.len() + padding(e.content.len() as u64), 0);
    }
    out.resize(out.len() + EOA_LEN, 0);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn manifest_render_parse_round_trip(lines in prop::collection::vec(line(), 0..20), blanks in prop::collection::vec(any::<bool>(), 20)) {
        let mut text = String::new();
        let mut expect = Vec::new();
        let mut n = 0;
        for (i, (k, dest, arg)) in lines.iter().enumerate() {
            if blanks[i] {
                text.push('\n');
                n += 1;
            }
            n += 1;
            let takes = !matches!(k, LineKind::Dir | LineKind::Empty);
            let l = ManifestLine { line: n, kind: *k, dest: dest.clone(), arg: takes.then(|| arg.clone()) };
            text.push_str(&l.render());
            text.push('\n');
            expect.push(l);
        }
        prop_assert_eq!(parse_manifest(&text).unwrap(), expect);
    }

    #[test]
    fn manifest_parser_never_panics(text in "(?s).{0,400}") {
        if let Err((line, msg)) = parse_manifest(&text) {
            prop_assert!(line >= 1 && line <= text.split('\n').count());
            prop_assert!(!msg.is_empty());
        }
    }

    #[test]
    fn tar_writer_round_trips(ents in prop::collection::vec(ent(), 1..12)) {
        let tar = write_tar(&ents);
        prop_assert_eq!(tar.len() % 512, 0);
        // our reader
        let mut r = TarReader::new(std::io::Cursor::new(&tar));
        for e in &ents {
            let got = r.next_entry().unwrap().unwrap();
            let want_path = if e.kind == EntryType::Dir { format!("{}/", e.path) } else { e.path.clone() };
            prop_assert_eq!(&got.path, &want_path);
            prop_assert_eq!(&got.link, &e.link);
            prop_assert_eq!(got.size, e.content.len() as u64);
            prop_assert_eq!(got.mode, e.mode);
            prop_assert_eq!(got.uid, e.uid);
            prop_assert_eq!(got.gid, e.gid);
        }
        prop_assert!(r.next_entry().unwrap().is_none());
        // the tar crate
        let mut a = tar::Archive::new(std::io::Cursor::new(&tar));
        let mut it = a.entries().unwrap();
        for e in &ents {
            let mut got = it.next().unwrap().unwrap();
            let p = got.path().unwrap().to_str().unwrap().to_string();
            prop_assert_eq!(p.trim_end_matches('/'), e.path.as_str());
            if e.kind == EntryType::Symlink {
                let l = got.link_name().unwrap().unwrap().to_str().unwrap().to_string();
                prop_assert_eq!(&l, &e.link);
            }
            prop_assert_eq!(got.header().mode().unwrap(), e.mode);
            let mut content = Vec::new();
            got.read_to_end(&mut content).unwrap();
            prop_assert_eq!(&content, &e.content);
        }
        prop_assert!(it.next().is_none());
    }
}
