//! Property tests of the plan commands: autogroup never exceeds its budget and puts every
//! package in exactly one group (or the squashed rest), whatever the graph (cycles included)
//! and input order; validate's merge fix keeps every package exactly once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::autogroup::{autogroup, Package};
use super::model::Plan;
use super::resolve::{resolve, PackageSizes};
use super::validate::{validate, ValidateOptions};
use proptest::prelude::*;

fn graph() -> impl Strategy<Value = Vec<Package>> {
    (1usize..40).prop_flat_map(|n| {
        (
            proptest::collection::vec(0u64..5_000, n),
            proptest::collection::vec(proptest::collection::vec(0usize..n, 0..5), n),
        )
            .prop_map(move |(bytes, deps)| {
                (0..n)
                    .map(|i| Package {
                        name: format!("p{i:02}"),
                        bytes: bytes[i],
                        deps: deps[i].iter().map(|d| format!("p{d:02}")).collect(),
                    })
                    .collect()
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn autogroup_partitions_within_budget(pk in graph(), budget in 1u64..30, seed in any::<u64>()) {
        let p = autogroup(&pk, budget).unwrap();
        prop_assert!(p.layers <= budget, "{} layers > budget {}", p.layers, budget);
        prop_assert_eq!(p.layers, p.groups.len() as u64 + u64::from(!p.squashed.is_empty()));
        let mut seen = BTreeSet::new();
        for g in &p.groups {
            prop_assert!(!g.packages.is_empty());
            for m in &g.packages {
                prop_assert!(seen.insert(m.clone()), "{} in two groups", m);
            }
        }
        for m in &p.squashed {
            prop_assert!(seen.insert(m.clone()), "{} grouped and squashed", m);
        }
        let all: BTreeSet<String> = pk.iter().map(|p| p.name.clone()).collect();
        prop_assert_eq!(seen, all);
        let names: BTreeSet<&String> = p.groups.iter().map(|g| &g.name).collect();
        prop_assert_eq!(names.len(), p.groups.len(), "group names are unique");
        // Input order does not matter.
        let mut shuffled = pk.clone();
        let len = shuffled.len();
        for i in 0..len {
            let j = ((seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64)) % len as u64) as usize;
            shuffled.swap(i, j);
        }
        prop_assert_eq!(autogroup(&shuffled, budget).unwrap(), p);
    }

    #[test]
    fn bigger_budget_never_squashes_more(pk in graph(), budget in 1u64..20) {
        let a = autogroup(&pk, budget).unwrap();
        let b = autogroup(&pk, budget + 1).unwrap();
        prop_assert!(b.groups.len() >= a.groups.len());
    }

    #[test]
    fn merge_fix_keeps_every_package_once(n in 2usize..60, warn in 1u64..40, base in 0u64..5, sizes in proptest::collection::vec(1u64..10_000, 60)) {
        let mut groups = serde_json::Map::new();
        let mut layers = Vec::new();
        let mut package_bytes = serde_json::Map::new();
        for (i, size) in sizes.iter().enumerate().take(n) {
            let name = format!("pkg{i:02}");
            groups.insert(name.clone(), serde_json::json!([name]));
            layers.push(serde_json::json!({"group": name, "kind": "pip_group", "packages": [name]}));
            package_bytes.insert(name, serde_json::json!(size));
        }
        layers.push(serde_json::json!({"group": "app", "kind": "app"}));
        let plan = serde_json::json!({
            "tier": {"name": "t"},
            "thresholds": {"warn_layers": warn, "max_layers": warn + 10},
            "base_layers": base,
            "groups": groups,
            "layers": layers,
            "package_bytes": package_bytes,
        });
        let plan = Plan::parse(&plan.to_string(), Path::new("plan.json")).unwrap();
        let resolved = resolve(Some(&plan), Path::new("plan.json"), &[]).unwrap();
        let sizes = PackageSizes::collect(Some(&plan), &[]);
        let out = validate(&plan, &resolved, &sizes, &ValidateOptions::default());
        let total = base + n as u64 + 1;
        if total <= warn {
            prop_assert!(out.messages.is_empty());
            return Ok(());
        }
        prop_assert_eq!(out.messages.len(), 1);
        let text = &out.messages[0].text;
        prop_assert_eq!(out.failed(), total > warn + 10);
        // Parse the snippet: group lines and their quoted members.
        let snippet = &text[text.find("layer_tier(").unwrap()..];
        let mut members: BTreeMap<String, usize> = BTreeMap::new();
        let mut group_count = 0;
        let body = &snippet[snippet.find("groups = {").unwrap()..snippet.find("\n    },").unwrap()];
        for line in body.lines().skip(1) {
            let t = line.trim();
            if line.starts_with("        \"") {
                group_count += 1;
                if let Some(rest) = t.split_once(": [").map(|x| x.1) {
                    for m in rest.trim_end_matches("],").split(", ").filter(|s| !s.is_empty()) {
                        *members.entry(m.trim_matches('"').to_string()).or_default() += 1;
                    }
                }
            } else if t.starts_with('"') {
                *members.entry(t.trim_end_matches(',').trim_matches('"').to_string()).or_default() += 1;
            }
        }
        prop_assert_eq!(members.len(), n);
        prop_assert!(members.values().all(|&c| c == 1));
        // Best possible: all groups merged into one, or exactly warn_layers.
        let expected = std::cmp::max(warn, base + 2);
        prop_assert_eq!(base + group_count as u64 + 1, expected, "{}", text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Arbitrary text never panics the plan parser; it is accepted or rejected with a message
    /// naming the file.
    #[test]
    fn plan_parser_never_panics(text in ".{0,200}") {
        if let Err(e) = Plan::parse(&text, Path::new("fuzz.json")) {
            prop_assert!(e.to_string().contains("fuzz.json"));
        }
    }

    /// JSON-shaped input with plausible keys and wrong types never panics either.
    #[test]
    fn plan_parser_survives_wrong_types(
        key in prop::sample::select(vec!["layers", "groups", "deps", "thresholds", "tier", "base_layers", "unmatched", "package_bytes"]),
        value in prop::sample::select(vec!["1", "-1", "\"x\"", "[]", "{}", "[1]", "[[\"a\"]]", "{\"a\": 1}", "null", "[{\"kind\": \"nope\"}]", "[{\"kind\": \"app\", \"descriptor\": -1}]"]),
    ) {
        let text = format!("{{\"{key}\": {value}}}");
        let _ = Plan::parse(&text, Path::new("fuzz.json"));
    }
}
