//! `pyimage validate`: the layer limit and the tier's size thresholds, with fixes.
//!
//! Pure functions: [`validate`] turns a plan and its resolved layers into an [`Outcome`]
//! whose text is byte-for-byte deterministic (fixed message order, sorted names).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::base::BaseCount;
use super::model::{Groups, LayerKind, Plan};
use super::resolve::{display_label, human_bytes, PackageSizes, ResolvedLayer};
use super::snippet::layer_tier_snippet;

/// Options of `validate` that are not in the plan.
#[derive(Debug, Clone, Default)]
pub(super) struct ValidateOptions {
    /// Base-image layers; overrides the plan's `base_layers`.
    pub base_layers: Option<u64>,
    /// The base image `base_layers` was read from, named in the messages.
    pub base_image: Option<BaseCount>,
    /// Report a count past `max_layers` as a warning and exit 0.
    pub limit_as_warning: bool,
}

/// Severity of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Severity {
    /// `WARNING:`; exit 0.
    Warning,
    /// `ERROR:`; exit 1.
    Error,
}

/// One finding with its fix (explanation and snippet), ready to print.
#[derive(Debug, Clone)]
pub(super) struct Message {
    /// Severity.
    pub severity: Severity,
    /// Full text, first line starting with `WARNING:` or `ERROR:`, ending in `\n`.
    pub text: String,
}

/// Result of [`validate`].
#[derive(Debug, Clone)]
pub(super) struct Outcome {
    /// Findings in a fixed order: layer count, squashed layer, large packages (by layer, name).
    pub messages: Vec<Message>,
    /// Last line: counts and totals.
    pub summary: String,
}

impl Outcome {
    /// Whether validation failed (an `ERROR`).
    pub(super) fn failed(&self) -> bool {
        self.messages.iter().any(|m| m.severity == Severity::Error)
    }

    /// The full text: messages separated by blank lines, then the summary line.
    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        for m in &self.messages {
            out.push_str(&m.text);
            out.push('\n');
        }
        out.push_str(&self.summary);
        out.push('\n');
        out
    }
}

struct Ctx<'a> {
    plan: &'a Plan,
    layers: &'a [ResolvedLayer],
    sizes: &'a PackageSizes,
    who: String,
    tier: String,
    base: u64,
    base_image: Option<&'a BaseCount>,
}

impl Ctx<'_> {
    fn total(&self) -> u64 {
        self.base + self.layers.len() as u64
    }

    fn snippet(&self, groups: &Groups) -> String {
        let mut s = String::from("  Paste into the tier's BUILD file:\n\n");
        s.push_str(&layer_tier_snippet(&self.plan.tier.name, groups));
        s
    }

    fn package_list(&self, packages: &[String]) -> String {
        if packages.is_empty() {
            return "no pip packages".into();
        }
        packages.join(", ")
    }
}

/// Validates a plan; see `docs/tool.md` for the rules and message formats.
pub(super) fn validate(
    plan: &Plan,
    layers: &[ResolvedLayer],
    sizes: &PackageSizes,
    opts: &ValidateOptions,
) -> Outcome {
    let who = if plan.target.is_empty() {
        "image".to_string()
    } else {
        display_label(&plan.target)
    };
    let tier = if !plan.tier.label.is_empty() {
        display_label(&plan.tier.label)
    } else if !plan.tier.name.is_empty() {
        plan.tier.name.clone()
    } else {
        "(default tier)".to_string()
    };
    let ctx = Ctx {
        plan,
        layers,
        sizes,
        who,
        tier,
        base: opts.base_layers.unwrap_or(plan.base_layers),
        base_image: opts.base_image.as_ref().filter(|b| b.is_from_image()),
    };
    let mut messages = Vec::new();
    if let Some(m) = check_layer_count(&ctx, opts) {
        messages.push(m);
    }
    if let Some(m) = check_squashed(&ctx) {
        messages.push(m);
    }
    messages.extend(check_packages(&ctx));
    messages.extend(check_unmatched(&ctx));

    let t = &plan.thresholds;
    let errors = messages
        .iter()
        .filter(|m| m.severity == Severity::Error)
        .count();
    let warnings = messages.len() - errors;
    let status = if messages.is_empty() {
        "OK".to_string()
    } else {
        format!(
            "{errors} error{}, {warnings} warning{}",
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" }
        )
    };
    let summary = format!(
        "pyimage validate: {}: {} layers ({} base{} + {} own; warn_layers {}, max_layers {}), {}: {}",
        ctx.who,
        ctx.total(),
        ctx.base,
        ctx.base_image
            .map_or(String::new(), |b| format!(" from the {}", b.source)),
        layers.len(),
        t.warn_layers,
        t.max_layers,
        human_bytes(layers.iter().map(|l| l.bytes(sizes)).sum()),
        status
    );
    Outcome { messages, summary }
}

/// A unique group name: `base`, else `base_2`, `base_3`, ...
fn unique_name(groups: &Groups, extra: &BTreeSet<String>, base: &str) -> String {
    let taken = |n: &str| groups.0.iter().any(|(g, _)| g == n) || extra.contains(n);
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|i| format!("{base}_{i}"))
        .find(|n| !taken(n))
        .expect("some suffix is free")
}

/// Merges the named groups into one group `new_name` placed where the first of them was;
/// patterns are concatenated in tier order without duplicates.
fn merge_groups(groups: &Groups, members: &BTreeSet<String>, new_name: &str) -> Groups {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut merged: Option<usize> = None;
    for (name, patterns) in &groups.0 {
        if members.contains(name) {
            let idx = *merged.get_or_insert_with(|| {
                out.push((new_name.to_string(), Vec::new()));
                out.len() - 1
            });
            for p in patterns {
                if !out[idx].1.contains(p) {
                    out[idx].1.push(p.clone());
                }
            }
        } else {
            out.push((name.clone(), patterns.clone()));
        }
    }
    Groups(out)
}

/// Groups of each kind that still have a layer after the merges: (name, bytes, packages).
type LiveGroups = BTreeMap<LayerKind, Vec<(String, u64, Vec<String>)>>;

/// The fix being built for too many layers: the tier's new groups, the layers it saves and
/// the lines explaining it.
struct LayerCountFix {
    new_groups: Groups,
    removed: u64,
    lines: String,
}

fn check_layer_count(ctx: &Ctx<'_>, opts: &ValidateOptions) -> Option<Message> {
    let t = &ctx.plan.thresholds;
    let total = ctx.total();
    if total <= t.warn_layers {
        return None;
    }
    let over_limit = total > t.max_layers;
    let severity = if over_limit && !opts.limit_as_warning {
        Severity::Error
    } else {
        Severity::Warning
    };
    let mut text = layer_count_headline(ctx, opts, severity);
    let need = total - t.warn_layers;
    let (mut fix, live) = merge_smallest_groups(ctx, need);
    drop_groups(ctx, need, &mut fix, live);
    layer_count_fix_text(ctx, need, &fix, &mut text);
    Some(Message { severity, text })
}

/// The first lines: how many layers, against which threshold of which tier.
fn layer_count_headline(ctx: &Ctx<'_>, opts: &ValidateOptions, severity: Severity) -> String {
    let t = &ctx.plan.thresholds;
    let total = ctx.total();
    let over_limit = total > t.max_layers;
    let mut text = String::new();
    let label = if severity == Severity::Error {
        "ERROR"
    } else {
        "WARNING"
    };
    if over_limit {
        let _ = writeln!(
            text,
            "{label}: {}: {total} layers ({} base + {} own) exceed max_layers = {} of tier {}{}.",
            ctx.who,
            ctx.base,
            ctx.layers.len(),
            t.max_layers,
            ctx.tier,
            if opts.limit_as_warning {
                " (reported as a warning: --limit-as-warning)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            text,
            "  Docker's layer store refuses images of more than 125 layers (\"max depth exceeded\"); see docs/design.md, \"Layer limit\"."
        );
    } else {
        let _ = writeln!(
            text,
            "{label}: {}: {total} layers ({} base + {} own) is more than warn_layers = {} of tier {} (the limit is max_layers = {}).",
            ctx.who,
            ctx.base,
            ctx.layers.len(),
            t.warn_layers,
            ctx.tier,
            t.max_layers
        );
    }
    if let Some(b) = ctx.base_image {
        let _ = writeln!(
            text,
            "  The base image's {} layers were {}.",
            b.layers,
            b.describe()
        );
    }
    text
}

/// Merges the smallest pip groups (then first-party groups) until `need` layers are saved.
fn merge_smallest_groups(ctx: &Ctx<'_>, need: u64) -> (LayerCountFix, LiveGroups) {
    let groups = ctx.plan.tier_groups();
    let mut new_groups = groups.clone();
    let mut removed = 0u64;
    let mut lines = String::new();
    let mut new_names = BTreeSet::new();
    let mut live = LiveGroups::new();
    for (kind, kind_name, base_name) in [
        (LayerKind::PipGroup, "pip", "merged"),
        (LayerKind::FirstParty, "first-party", "merged_first_party"),
    ] {
        let mut candidates: Vec<(u64, &ResolvedLayer)> = ctx
            .layers
            .iter()
            .filter(|l| l.kind == Some(kind) && groups.0.iter().any(|(g, _)| *g == l.group))
            .map(|l| (l.bytes(ctx.sizes), l))
            .collect();
        candidates.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.group.cmp(&b.1.group)));
        let entry = live.entry(kind).or_default();
        if removed >= need || candidates.len() < 2 {
            entry.extend(
                candidates
                    .iter()
                    .map(|(b, l)| (l.group.clone(), *b, l.packages.clone())),
            );
            continue;
        }
        let take = ((need - removed + 1) as usize).min(candidates.len());
        let chosen = &candidates[..take];
        let members: BTreeSet<String> = chosen.iter().map(|(_, l)| l.group.clone()).collect();
        let name = unique_name(&new_groups, &new_names, base_name);
        new_names.insert(name.clone());
        new_groups = merge_groups(&new_groups, &members, &name);
        removed += (take - 1) as u64;
        let bytes: u64 = chosen.iter().map(|(b, _)| *b).sum();
        let mut merged_packages: Vec<String> = chosen
            .iter()
            .flat_map(|(_, l)| l.packages.clone())
            .collect();
        merged_packages.sort();
        merged_packages.dedup();
        entry.push((name.clone(), bytes, merged_packages));
        entry.extend(
            candidates[take..]
                .iter()
                .map(|(b, l)| (l.group.clone(), *b, l.packages.clone())),
        );
        let _ = writeln!(
            lines,
            "  Merge the {take} smallest {kind_name} groups into one group \"{name}\" ({}):",
            human_bytes(bytes)
        );
        for (b, l) in chosen {
            let _ = writeln!(
                lines,
                "    \"{}\": {} ({})",
                l.group,
                ctx.package_list(&l.packages),
                human_bytes(*b)
            );
        }
    }
    let fix = LayerCountFix {
        new_groups,
        removed,
        lines,
    };
    (fix, live)
}

/// Still too many: drops whole groups, smallest first.
fn drop_groups(ctx: &Ctx<'_>, need: u64, fix: &mut LayerCountFix, mut live: LiveGroups) {
    let LayerCountFix {
        new_groups,
        removed,
        lines,
    } = fix;
    // Still too many: drop whole groups. A dropped pip group's packages join the squashed
    // layer (one layer less only if that layer exists already); a dropped first-party group's
    // targets join the app layer.
    let has_squashed = ctx
        .layers
        .iter()
        .any(|l| l.kind == Some(LayerKind::PipSquashed));
    for (kind, destination, saves) in [
        (
            LayerKind::FirstParty,
            "their targets join the app layer",
            true,
        ),
        (
            LayerKind::PipGroup,
            "their packages join the squashed layer of ungrouped packages",
            has_squashed,
        ),
    ] {
        if *removed >= need || !saves {
            continue;
        }
        let mut items = live.remove(&kind).unwrap_or_default();
        items.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        let take = ((need - *removed) as usize).min(items.len());
        if take == 0 {
            continue;
        }
        let dropped: BTreeSet<String> = items[..take].iter().map(|i| i.0.clone()).collect();
        new_groups.0.retain(|(n, _)| !dropped.contains(n));
        *removed += take as u64;
        let _ = writeln!(lines, "  Remove {take} group(s); {destination}:");
        for (name, bytes, packages) in &items[..take] {
            let _ = writeln!(
                lines,
                "    \"{name}\": {} ({})",
                ctx.package_list(packages),
                human_bytes(*bytes)
            );
        }
    }
}

/// The fix's explanation, the layer count it reaches and the tier snippet (or, when nothing
/// can be merged or removed, what else to do).
fn layer_count_fix_text(ctx: &Ctx<'_>, need: u64, fix: &LayerCountFix, text: &mut String) {
    let t = &ctx.plan.thresholds;
    let total = ctx.total();
    let removed = fix.removed;
    let lowered_budget = lower_budget(ctx, need, text);
    if removed == 0 && lowered_budget {
        return;
    }
    if removed == 0 {
        let _ = writeln!(
            *text,
            "  The tier has no group whose merging or removal saves a layer: use a base image with fewer layers{}.",
            if ctx.plan.layers.iter().any(|l| l.kind == LayerKind::Interpreter) {
                ", or drop interpreter_group from the tier"
            } else {
                ""
            }
        );
        return;
    }
    text.push_str(&fix.lines);
    let after = total - removed;
    if removed >= need {
        let _ = writeln!(
            *text,
            "  This brings the image to {after} layers (warn_layers = {}).",
            t.warn_layers
        );
    } else {
        let _ = writeln!(
            *text,
            "  This brings the image to {after} layers, still more than {}: the base image's {} layers and the fixed layers (interpreter, squashed, app) leave no more room{}.",
            if after > t.max_layers {
                format!("max_layers = {}", t.max_layers)
            } else {
                format!("warn_layers = {}", t.warn_layers)
            },
            ctx.base,
            if after > t.max_layers {
                "; use a base image with fewer layers as well"
            } else {
                ""
            }
        );
    }
    text.push_str(&ctx.snippet(&fix.new_groups));
}

/// With auto layers (a tier `budget`), the first fix is a lower budget; whether one was given.
fn lower_budget(ctx: &Ctx<'_>, need: u64, text: &mut String) -> bool {
    let auto = ctx
        .layers
        .iter()
        .filter(|l| l.kind == Some(LayerKind::PipAuto))
        .count() as u64;
    let own = ctx.layers.len() as u64;
    let (fixed, budget) = (own - auto, own.saturating_sub(need));
    if auto == 0 || budget <= fixed {
        return false;
    }
    let _ = writeln!(
        *text,
        "  Lower the budget of tier {} to {budget} (budget = {budget}): its auto layers go from {auto} to {}.",
        ctx.tier,
        budget - fixed
    );
    true
}

/// Packages that join `root` when it leaves `remaining`: its dependencies (within
/// `remaining`) that no other package of `universe` outside the group needs.
pub(crate) fn exclusive_closure(
    root: &str,
    remaining: &BTreeSet<String>,
    universe: &BTreeSet<String>,
    deps: &BTreeMap<String, Vec<String>>,
) -> BTreeSet<String> {
    let mut group = BTreeSet::new();
    group.insert(root.to_string());
    let mut stack = vec![root.to_string()];
    while let Some(p) = stack.pop() {
        for d in deps.get(&p).into_iter().flatten() {
            if remaining.contains(d) && group.insert(d.clone()) {
                stack.push(d.clone());
            }
        }
    }
    // Drop members needed by a package outside the group, until nothing changes.
    loop {
        let outside_needs: BTreeSet<&String> = universe
            .iter()
            .filter(|p| !group.contains(*p))
            .flat_map(|p| deps.get(p).into_iter().flatten())
            .collect();
        let drop: Vec<String> = group
            .iter()
            .filter(|m| *m != root && outside_needs.contains(m))
            .cloned()
            .collect();
        if drop.is_empty() {
            break;
        }
        for d in drop {
            group.remove(&d);
        }
        // Members only reachable through dropped ones must leave too.
        let mut reach = BTreeSet::new();
        reach.insert(root.to_string());
        let mut stack = vec![root.to_string()];
        while let Some(p) = stack.pop() {
            for d in deps.get(&p).into_iter().flatten() {
                if group.contains(d) && reach.insert(d.clone()) {
                    stack.push(d.clone());
                }
            }
        }
        group = reach;
    }
    group
}

fn check_squashed(ctx: &Ctx<'_>) -> Option<Message> {
    let t = &ctx.plan.thresholds;
    if t.max_squashed_bytes == 0 {
        return None;
    }
    let layer = ctx
        .layers
        .iter()
        .find(|l| l.kind == Some(LayerKind::PipSquashed))?;
    let bytes = layer.bytes(ctx.sizes);
    if bytes <= t.max_squashed_bytes {
        return None;
    }
    let mut by_size: Vec<(u64, &String)> = layer
        .packages
        .iter()
        .map(|p| (ctx.sizes.get(p), p))
        .collect();
    by_size.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let mut text = String::new();
    let largest: Vec<String> = by_size
        .iter()
        .take(5)
        .map(|(b, p)| format!("{p} ({})", human_bytes(*b)))
        .collect();
    let _ = writeln!(
        text,
        "WARNING: {}: the squashed layer of ungrouped pip packages (layer {}, {} packages) is {}, more than max_squashed_bytes = {} of tier {}. Largest: {}.",
        ctx.who,
        layer.index,
        layer.packages.len(),
        human_bytes(bytes),
        human_bytes(t.max_squashed_bytes),
        ctx.tier,
        largest.join(", ")
    );
    let split = split_squashed(ctx, &layer.packages, &by_size, bytes);
    if split.added == 0 {
        let _ = writeln!(
            text,
            "  The descriptors give no package sizes for it, so no split can be proposed; `pyimage report` shows the layer."
        );
        return Some(Message {
            severity: Severity::Warning,
            text,
        });
    }
    let _ = writeln!(
        text,
        "  Give its largest packages their own groups (each takes the dependencies only it needs); {} stay squashed (about {}):",
        split.remaining,
        human_bytes(split.left)
    );
    text.push_str(&split.lines);
    let mut after = ctx.total() + split.added;
    if split.remaining == 0 {
        after -= 1;
    }
    if after > t.warn_layers {
        let _ = writeln!(
            text,
            "  Note: this brings the image to {after} layers, more than warn_layers = {}; merge small groups too, or see `pyimage autogroup`.",
            t.warn_layers
        );
    }
    text.push_str(&ctx.snippet(&split.new_groups));
    Some(Message {
        severity: Severity::Warning,
        text,
    })
}

/// New groups for the largest packages of the squashed layer.
struct SquashedSplit {
    /// The tier's groups with the new ones appended.
    new_groups: Groups,
    /// How many groups were added.
    added: u64,
    /// Packages left in the squashed layer, and their bytes.
    remaining: usize,
    left: u64,
    /// One line per new group.
    lines: String,
}

/// Gives the largest packages (`by_size`, largest first) groups of their own, each with the
/// dependencies only it needs, until the squashed layer is under the threshold.
fn split_squashed(
    ctx: &Ctx<'_>,
    packages: &[String],
    by_size: &[(u64, &String)],
    bytes: u64,
) -> SquashedSplit {
    let t = &ctx.plan.thresholds;
    let groups = ctx.plan.tier_groups();
    let mut new_groups = groups.clone();
    let universe: BTreeSet<String> = packages.iter().cloned().collect();
    let mut remaining = universe.clone();
    let mut left = bytes;
    let mut lines = String::new();
    let mut added = 0u64;
    let mut new_names = BTreeSet::new();
    for (size, p) in by_size {
        if left <= t.max_squashed_bytes {
            break;
        }
        if *size == 0 || !remaining.contains(*p) {
            continue;
        }
        let members = exclusive_closure(p, &remaining, &universe, &ctx.plan.deps);
        let mut ordered: Vec<String> = vec![(*p).clone()];
        ordered.extend(members.iter().filter(|m| *m != *p).cloned());
        let group_bytes: u64 = members.iter().map(|m| ctx.sizes.get(m)).sum();
        for m in &members {
            remaining.remove(m);
        }
        left = left.saturating_sub(group_bytes);
        let name = unique_name(&new_groups, &new_names, &p.replace('-', "_"));
        new_names.insert(name.clone());
        let _ = writeln!(
            lines,
            "    \"{name}\": {} ({})",
            ordered.join(", "),
            human_bytes(group_bytes)
        );
        new_groups.0.push((name, ordered));
        added += 1;
    }
    SquashedSplit {
        new_groups,
        added,
        remaining: remaining.len(),
        left,
        lines,
    }
}

fn is_glob(p: &str) -> bool {
    !p.contains(':') && p.contains(['*', '?', '['])
}

fn glob_matches(pattern: &str, name: &str) -> bool {
    globset::Glob::new(pattern)
        .map(|g| g.compile_matcher().is_match(name))
        .unwrap_or(false)
}

fn check_packages(ctx: &Ctx<'_>) -> Vec<Message> {
    let t = &ctx.plan.thresholds;
    let mut out = Vec::new();
    if t.max_package_bytes == 0 {
        return out;
    }
    let groups = ctx.plan.tier_groups();
    for layer in ctx.layers {
        let kind = match layer.kind {
            Some(k @ (LayerKind::PipGroup | LayerKind::PipSquashed | LayerKind::PipAuto)) => k,
            None if !layer.packages.is_empty() => LayerKind::PipGroup,
            _ => continue,
        };
        if layer.packages.len() < 2 {
            continue;
        }
        for p in &layer.packages {
            let size = ctx.sizes.get(p);
            if size <= t.max_package_bytes {
                continue;
            }
            let others: Vec<String> = layer.packages.iter().filter(|o| *o != p).cloned().collect();
            let mut text = String::new();
            let place = if kind == LayerKind::PipSquashed {
                format!(
                    "the squashed layer of ungrouped packages (layer {})",
                    layer.index
                )
            } else {
                format!("layer {} (group \"{}\")", layer.index, layer.group)
            };
            let _ = writeln!(
                text,
                "WARNING: {}: pip package {p} is {}, more than max_package_bytes = {} of tier {}, and shares {place} with {} other package{}: {}.",
                ctx.who,
                human_bytes(size),
                human_bytes(t.max_package_bytes),
                ctx.tier,
                others.len(),
                if others.len() == 1 { "" } else { "s" },
                others.join(", ")
            );
            let new_name = unique_name(&groups, &BTreeSet::new(), &p.replace('-', "_"));
            let mut new_groups = Groups(Vec::new());
            let mut placed = false;
            for (name, patterns) in &groups.0 {
                if kind == LayerKind::PipGroup && *name == layer.group {
                    let mut kept: Vec<String> = Vec::new();
                    for pat in patterns {
                        if pat == p {
                            continue;
                        }
                        if is_glob(pat) && glob_matches(pat, p) {
                            for o in &others {
                                if glob_matches(pat, o) && !kept.contains(o) {
                                    kept.push(o.clone());
                                }
                            }
                            continue;
                        }
                        if !kept.contains(pat) {
                            kept.push(pat.clone());
                        }
                    }
                    new_groups.0.push((name.clone(), kept));
                    new_groups.0.push((new_name.clone(), vec![p.clone()]));
                    placed = true;
                } else {
                    new_groups.0.push((name.clone(), patterns.clone()));
                }
            }
            if !placed {
                new_groups.0.push((new_name.clone(), vec![p.clone()]));
            }
            let _ = writeln!(
                text,
                "  Give {p} a group of its own, \"{new_name}\" (one more layer, shared by every image that uses it):"
            );
            text.push_str(&ctx.snippet(&new_groups));
            out.push(Message {
                severity: Severity::Warning,
                text,
            });
        }
    }
    out
}

fn check_unmatched(ctx: &Ctx<'_>) -> Vec<Message> {
    let groups = ctx.plan.tier_groups();
    let position = |g: &str| {
        groups
            .0
            .iter()
            .position(|(n, _)| n == g)
            .unwrap_or(usize::MAX)
    };
    let mut items: Vec<&super::model::UnmatchedPattern> = ctx.plan.unmatched.iter().collect();
    items.sort_by(|a, b| {
        position(&a.group)
            .cmp(&position(&b.group))
            .then_with(|| a.group.cmp(&b.group))
            .then_with(|| a.pattern.cmp(&b.pattern))
    });
    items.dedup();
    let mut out = Vec::new();
    for u in items {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "WARNING: {}: pattern \"{}\" of group \"{}\" in tier {} matches no pip package of this binary.",
            ctx.who, u.pattern, u.group, ctx.tier
        );
        let mut new_groups = Groups(Vec::new());
        let mut dropped_group = false;
        for (name, patterns) in &groups.0 {
            if *name == u.group {
                let kept: Vec<String> = patterns
                    .iter()
                    .filter(|p| **p != u.pattern)
                    .cloned()
                    .collect();
                if kept.is_empty() {
                    dropped_group = true;
                    continue;
                }
                new_groups.0.push((name.clone(), kept));
            } else {
                new_groups.0.push((name.clone(), patterns.clone()));
            }
        }
        let _ =
            writeln!(
            text,
            "  Fix the name, or remove the pattern{} if no other binary using the tier needs it:",
            if dropped_group { " and its now empty group" } else { "" }
        );
        text.push_str(&ctx.snippet(&new_groups));
        out.push(Message {
            severity: Severity::Warning,
            text,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn exclusive_closure_keeps_shared_deps_out() {
        // r -> a -> b ; q -> a ; r -> c -> d
        let d = deps(&[
            ("r", &["a", "c"]),
            ("a", &["b"]),
            ("q", &["a"]),
            ("c", &["d"]),
        ]);
        let all = set(&["r", "a", "b", "c", "d", "q"]);
        assert_eq!(
            exclusive_closure("r", &all, &all, &d),
            set(&["r", "c", "d"])
        );
        // q already left (it has its own group) but still needs a: a and b stay.
        let remaining = set(&["r", "a", "b", "c", "d"]);
        assert_eq!(
            exclusive_closure("r", &remaining, &all, &d),
            set(&["r", "c", "d"])
        );
        // Without q at all, a and b join r.
        assert_eq!(
            exclusive_closure("r", &remaining, &remaining, &d),
            set(&["r", "a", "b", "c", "d"])
        );
    }

    #[test]
    fn merge_groups_keeps_position() {
        let g = Groups(vec![
            ("a".into(), vec!["x".into()]),
            ("b".into(), vec!["y".into()]),
            ("c".into(), vec!["z".into(), "y".into()]),
        ]);
        let m = merge_groups(&g, &set(&["b", "c"]), "merged");
        assert_eq!(
            m.0,
            vec![
                ("a".to_string(), vec!["x".to_string()]),
                ("merged".to_string(), vec!["y".to_string(), "z".to_string()]),
            ]
        );
    }

    #[test]
    fn unique_names() {
        let g = Groups(vec![("merged".into(), vec![])]);
        assert_eq!(unique_name(&g, &BTreeSet::new(), "merged"), "merged_2");
        assert_eq!(unique_name(&g, &set(&["merged_2"]), "merged"), "merged_3");
    }
}
