//! `pyimage autogroup`: Nix-style automatic layering for a layer budget.
//!
//! Algorithm (after nixpkgs' auto-layer):
//! 1. Candidates are all packages, largest first (ties by name).
//! 2. Take the next candidate as a root. Every package is *owned* by the set of roots that
//!    reach it through dependency edges without passing through another root.
//! 3. Each root forms a group with the packages owned by it alone; packages owned by the
//!    same set of two or more roots form one shared group; packages no root reaches stay in
//!    the squashed layer of ungrouped packages.
//! 4. The layer count is the number of groups plus one if the squashed layer is not empty.
//!    Stop before a root would make it exceed the budget.
//! 5. Groups are ordered by size, largest first (ties by name); each package is listed in
//!    exactly one group or in the squashed rest.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::error::{Error, Result};

/// One package: name (normalised), uncompressed bytes, dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Package {
    /// Normalised distribution name.
    pub name: String,
    /// Uncompressed bytes.
    pub bytes: u64,
    /// Names of packages it requires (unknown names are ignored).
    pub deps: Vec<String>,
}

/// One proposed group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct AutoGroup {
    /// Group name: the root's name, or `shared_<largest member>` for shared dependencies.
    pub name: String,
    /// Members, largest first (ties by name); for a root group the root comes first.
    pub packages: Vec<String>,
    /// Sum of the members' bytes.
    pub bytes: u64,
    /// The roots whose dependencies these are (the root itself for a root group).
    pub roots: Vec<String>,
}

/// The proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct Proposal {
    /// The budget (layers for pip packages, squashed layer included).
    pub budget: u64,
    /// Layers used: groups plus one if `squashed` is not empty.
    pub layers: u64,
    /// Groups in layer order.
    pub groups: Vec<AutoGroup>,
    /// Packages left to the squashed layer, by name.
    pub squashed: Vec<String>,
    /// Their bytes.
    pub squashed_bytes: u64,
}

struct Graph {
    names: Vec<String>,
    bytes: Vec<u64>,
    deps: Vec<Vec<usize>>,
}

impl Graph {
    fn new(packages: &[Package]) -> Graph {
        // Sort by name and drop duplicate names (first wins) so input order never matters.
        let mut sorted: BTreeMap<&str, &Package> = BTreeMap::new();
        for p in packages {
            sorted.entry(p.name.as_str()).or_insert(p);
        }
        let names: Vec<String> = sorted.keys().map(|s| s.to_string()).collect();
        let index: BTreeMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let bytes = sorted.values().map(|p| p.bytes).collect();
        let deps = sorted
            .values()
            .enumerate()
            .map(|(i, p)| {
                let mut d: Vec<usize> = p
                    .deps
                    .iter()
                    .filter_map(|n| index.get(n.as_str()).copied())
                    .filter(|&j| j != i)
                    .collect();
                d.sort_unstable();
                d.dedup();
                d
            })
            .collect();
        Graph { names, bytes, deps }
    }

    /// Owner sets (indices into `roots`, ascending) of every package.
    fn owners(&self, roots: &[usize]) -> Vec<Vec<usize>> {
        let n = self.names.len();
        let mut is_root = vec![usize::MAX; n];
        for (k, &r) in roots.iter().enumerate() {
            is_root[r] = k;
        }
        let mut owners: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut seen = vec![usize::MAX; n];
        let mut stack = Vec::new();
        for (k, &r) in roots.iter().enumerate() {
            seen[r] = k;
            owners[r].push(k);
            stack.push(r);
            while let Some(p) = stack.pop() {
                for &d in &self.deps[p] {
                    if seen[d] == k || is_root[d] != usize::MAX {
                        continue;
                    }
                    seen[d] = k;
                    owners[d].push(k);
                    stack.push(d);
                }
            }
        }
        owners
    }

    /// Number of layers for these roots.
    fn layer_count(&self, roots: &[usize]) -> u64 {
        let owners = self.owners(roots);
        let mut keys: BTreeSet<&Vec<usize>> = BTreeSet::new();
        let mut rest = false;
        for o in &owners {
            if o.is_empty() {
                rest = true;
            } else {
                keys.insert(o);
            }
        }
        keys.len() as u64 + u64::from(rest)
    }
}

/// Sum of package sizes, or an error naming the packages when it does not fit in 64 bits.
fn total_bytes(g: &Graph, members: &[usize]) -> Result<u64> {
    members
        .iter()
        .try_fold(0u64, |acc, &m| acc.checked_add(g.bytes[m]))
        .ok_or_else(|| {
            let names: Vec<&str> = members.iter().map(|&m| g.names[m].as_str()).collect();
            Error::Invalid(format!(
                "the sizes of packages {} add up to more than 2^64-1 bytes; check their `bytes`",
                names.join(", ")
            ))
        })
}

/// Roots in candidate order, added while the layer count stays within the budget.
fn choose_roots(g: &Graph, order: &[usize], budget: u64) -> Vec<usize> {
    // With k roots every package is in a root group, a shared group or the rest, and the
    // rest is only non-empty when some non-root is in it: at most n layers. So a budget of
    // n or more takes every package as a root, without counting (which costs O(n) per root).
    if budget >= order.len() as u64 {
        return order.to_vec();
    }
    let mut roots: Vec<usize> = Vec::new();
    for &c in order {
        roots.push(c);
        if g.layer_count(&roots) > budget {
            roots.pop();
            break;
        }
    }
    roots
}

/// Proposes groups for `budget` layers (at least 1: the squashed layer).
pub(super) fn autogroup(packages: &[Package], budget: u64) -> Result<Proposal> {
    let budget = budget.max(1);
    let g = Graph::new(packages);
    let n = g.names.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| g.bytes[b].cmp(&g.bytes[a]).then(a.cmp(&b)));
    let roots = choose_roots(&g, &order, budget);

    let owners = g.owners(&roots);
    let mut by_key: BTreeMap<Vec<usize>, Vec<usize>> = BTreeMap::new();
    let mut rest: Vec<usize> = Vec::new();
    for (p, o) in owners.into_iter().enumerate() {
        if o.is_empty() {
            rest.push(p);
        } else {
            by_key.entry(o).or_default().push(p);
        }
    }
    let mut groups: Vec<AutoGroup> = by_key
        .into_iter()
        .map(|(key, mut members)| -> Result<AutoGroup> {
            members.sort_by(|&a, &b| g.bytes[b].cmp(&g.bytes[a]).then(a.cmp(&b)));
            let root_group = key.len() == 1;
            if root_group {
                let r = roots[key[0]];
                members.retain(|&m| m != r);
                members.insert(0, r);
            }
            let name = if root_group {
                g.names[roots[key[0]]].clone()
            } else {
                format!("shared_{}", g.names[members[0]])
            };
            let mut root_names: Vec<String> =
                key.iter().map(|&k| g.names[roots[k]].clone()).collect();
            root_names.sort();
            Ok(AutoGroup {
                name,
                bytes: total_bytes(&g, &members)?,
                packages: members.iter().map(|&m| g.names[m].clone()).collect(),
                roots: root_names,
            })
        })
        .collect::<Result<_>>()?;
    groups.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
    let squashed: Vec<String> = rest.iter().map(|&p| g.names[p].clone()).collect();
    let squashed_bytes = total_bytes(&g, &rest)?;
    Ok(Proposal {
        budget,
        layers: groups.len() as u64 + u64::from(!squashed.is_empty()),
        groups,
        squashed,
        squashed_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, bytes: u64, deps: &[&str]) -> Package {
        Package {
            name: name.into(),
            bytes,
            deps: deps.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn sample() -> Vec<Package> {
        vec![
            pkg("scipy", 100, &["numpy"]),
            pkg("pandas", 60, &["numpy", "python-dateutil", "pytz"]),
            pkg("numpy", 40, &[]),
            pkg("python-dateutil", 2, &["six"]),
            pkg("pytz", 3, &[]),
            pkg("six", 1, &[]),
            pkg("requests", 5, &["urllib3", "idna", "certifi"]),
            pkg("urllib3", 4, &[]),
            pkg("idna", 1, &[]),
            pkg("certifi", 1, &[]),
        ]
    }

    #[test]
    fn budget_one_squashes_everything() {
        let p = autogroup(&sample(), 1).unwrap();
        assert!(p.groups.is_empty());
        assert_eq!(p.layers, 1);
        assert_eq!(p.squashed.len(), 10);
    }

    #[test]
    fn roots_take_exclusive_deps() {
        let p = autogroup(&sample(), 3).unwrap();
        // scipy root: owns numpy alone -> [scipy, numpy]; then pandas would share numpy:
        // groups scipy, pandas(+dateutil, pytz, six), shared numpy, rest -> 4 > 3: stop.
        assert_eq!(p.groups.len(), 1);
        assert_eq!(p.groups[0].packages, vec!["scipy", "numpy"]);
        assert_eq!(p.layers, 2);
        let p = autogroup(&sample(), 4).unwrap();
        let names: Vec<&str> = p.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, vec!["scipy", "pandas", "numpy", "requests"]);
        assert_eq!(
            p.groups[1].packages,
            vec!["pandas", "pytz", "python-dateutil", "six"]
        );
        assert_eq!(p.layers, 4);
        assert!(p.squashed.is_empty());
    }

    #[test]
    fn shared_dependencies_form_their_own_group() {
        let pk = vec![
            pkg("a", 10, &["c"]),
            pkg("b", 9, &["c"]),
            pkg("c", 1, &[]),
            pkg("d", 5, &[]),
            pkg("e", 3, &[]),
        ];
        let p = autogroup(&pk, 4).unwrap();
        let names: Vec<&str> = p.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b", "shared_c"]);
        assert_eq!(p.groups[2].roots, vec!["a", "b"]);
        assert_eq!(p.squashed, vec!["d", "e"]);
        assert_eq!(p.squashed_bytes, 8);
        assert_eq!(p.layers, 4);
    }

    #[test]
    fn huge_budget_gives_every_package_a_group() {
        let p = autogroup(&sample(), 100).unwrap();
        assert_eq!(p.groups.len(), 10);
        assert!(p.squashed.is_empty());
        assert_eq!(p.layers, 10);
    }

    #[test]
    fn input_order_does_not_matter() {
        let mut s = sample();
        let a = autogroup(&s, 5).unwrap();
        s.reverse();
        assert_eq!(a, autogroup(&s, 5).unwrap());
    }

    #[test]
    fn a_budget_of_every_package_is_linear() {
        // 20,000 packages in one dependency chain: counting layers root by root took
        // minutes here; the shortcut gives every package its own group at once.
        let n = 20_000;
        let pk: Vec<Package> = (0..n)
            .map(|i| Package {
                name: format!("p{i:05}"),
                bytes: 1 + i as u64 % 7,
                deps: if i + 1 < n {
                    vec![format!("p{:05}", i + 1)]
                } else {
                    vec![]
                },
            })
            .collect();
        let start = std::time::Instant::now();
        let p = autogroup(&pk, n as u64).unwrap();
        assert_eq!(p.groups.len(), n);
        assert!(p.squashed.is_empty());
        assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    }

    #[test]
    fn the_trivial_case_equals_the_general_one() {
        // The shortcut gives what adding roots one by one gives.
        let g = Graph::new(&sample());
        let mut order: Vec<usize> = (0..g.names.len()).collect();
        order.sort_by(|&a, &b| g.bytes[b].cmp(&g.bytes[a]).then(a.cmp(&b)));
        let mut roots = Vec::new();
        for &c in &order {
            roots.push(c);
            assert!(g.layer_count(&roots) <= order.len() as u64);
        }
        assert_eq!(choose_roots(&g, &order, order.len() as u64), roots);
    }

    #[test]
    fn overflowing_sizes_are_an_error() {
        let pk = vec![pkg("a", u64::MAX, &["b"]), pkg("b", 1, &[])];
        let err = autogroup(&pk, 1).unwrap_err().to_string();
        assert!(err.contains("a, b") && err.contains("2^64-1"), "{err}");
        assert_eq!(autogroup(&pk, 2).unwrap().groups.len(), 2);
    }
}
