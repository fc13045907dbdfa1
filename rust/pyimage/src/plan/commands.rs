//! Entry points of `validate`, `report` and `autogroup`: read the plan and descriptors,
//! compute, write the text (the binary turns command-line flags into these requests).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::atomic::{emit, write_file};
use crate::diff::{diff_reports, load_report};
use crate::error::{Error, Result};

use super::autogroup::{autogroup, Package, Proposal};
use super::base::{read_base, BaseCount, Platform};
use super::html;
use super::model::{normalize_name, Groups, LayerKind, PackageList, Plan, MAX_BASE_LAYERS};
use super::report;
use super::resolve::{human_bytes, resolve, DescriptorArg, PackageSizes};
use super::snippet::layer_tier_snippet;
use super::validate::{validate, ValidateOptions};
use crate::descriptor::add_checked;

/// What `pyimage validate` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct ValidateRequest {
    /// The layer plan written by the rules (format: docs/tool.md).
    pub plan: PathBuf,
    /// Layers of the base image; overrides the plan's `base_layers`.
    pub base_layers: Option<u64>,
    /// The base image (OCI layout, OCI archive or docker archive) whose layers count;
    /// overrides the plan's `base_layers`.
    pub base: Option<PathBuf>,
    /// Platform (`os/arch[/variant]`) whose image to count in a multi-platform base.
    pub platform: Option<String>,
    /// Report a layer count past `max_layers` as a WARNING and exit 0.
    pub limit_as_warning: bool,
    /// Also write the report text to this file (written even when validation fails).
    pub output: Option<PathBuf>,
    /// Print nothing on stderr when there is no warning and no error.
    pub quiet: bool,
    /// Layer descriptors, referenced by index or path from the plan's `layers`.
    pub descriptors: Vec<PathBuf>,
}

/// What `pyimage report` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct ReportRequest {
    /// The layer plan (adds group names, kinds, target and tier); optional.
    pub plan: Option<PathBuf>,
    /// Layers of the base image, shown in the totals; overrides the plan's `base_layers`.
    pub base_layers: Option<u64>,
    /// The base image (OCI layout, OCI archive or docker archive) whose layers count;
    /// overrides the plan's `base_layers`.
    pub base: Option<PathBuf>,
    /// Platform (`os/arch[/variant]`) whose image to count in a multi-platform base.
    pub platform: Option<String>,
    /// Print JSON instead of the table.
    pub json: bool,
    /// Write a self-contained HTML page instead of the table.
    pub html: bool,
    /// A previous build's `report --json`, whose diff the HTML page highlights.
    pub previous: Option<PathBuf>,
    /// Write to this file instead of stdout.
    pub output: Option<PathBuf>,
    /// Layer descriptors in image order (or as the plan references them).
    pub descriptors: Vec<PathBuf>,
}

/// What `pyimage autogroup` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct AutogroupRequest {
    /// Take packages, sizes and dependencies from a layer plan (sizes from the descriptors).
    pub plan: Option<PathBuf>,
    /// Take packages from a simple list: {"packages": [{"name", "bytes", "deps"}]}.
    pub packages: Option<PathBuf>,
    /// Layers for pip packages, the squashed layer of the rest included. With --plan the
    /// default is warn_layers minus base layers minus the plan's other layers.
    pub budget: Option<u64>,
    /// Layers of the base image (with --plan); overrides the plan's `base_layers`.
    pub base_layers: Option<u64>,
    /// The base image whose layers count (with --plan); overrides the plan's `base_layers`.
    pub base: Option<PathBuf>,
    /// Platform (`os/arch[/variant]`) whose image to count in a multi-platform base.
    pub platform: Option<String>,
    /// Print JSON instead of the Starlark snippet.
    pub json: bool,
    /// Write to this file instead of stdout.
    pub output: Option<PathBuf>,
    /// Layer descriptors (with --plan), for package sizes.
    pub descriptors: Vec<PathBuf>,
}

/// Runs `pyimage validate`.
pub fn run_validate(args: &ValidateRequest) -> Result<ExitCode> {
    check_base_layers(args.base_layers)?;
    let plan = Plan::load(&args.plan)?;
    let base = base_count(
        args.base.as_deref(),
        args.platform.as_deref(),
        args.base_layers,
        Some(&plan),
    )?;
    let descriptors = DescriptorArg::load_all(&args.descriptors)?;
    let layers = resolve(Some(&plan), &args.plan, &descriptors)?;
    let sizes = PackageSizes::collect(Some(&plan), &descriptors);
    sizes.check_totals(&layers, &args.plan)?;
    let outcome = validate(
        &plan,
        &layers,
        &sizes,
        &ValidateOptions {
            base_layers: Some(base.layers),
            base_image: Some(base),
            limit_as_warning: args.limit_as_warning,
        },
    );
    let text = outcome.render();
    if let Some(out) = &args.output {
        write_file(out, text.as_bytes())?;
    }
    if !(args.quiet && outcome.messages.is_empty()) {
        let mut err = std::io::stderr().lock();
        err.write_all(text.as_bytes())
            .and_then(|()| err.flush())
            .map_err(|e| Error::io("<stderr>", e))?;
    }
    Ok(if outcome.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Refuses a `--base-layers` above [`MAX_BASE_LAYERS`] (a count that large could only
/// wrap around when our layers are added).
fn check_base_layers(n: Option<u64>) -> Result<()> {
    match n {
        Some(n) if n > MAX_BASE_LAYERS => Err(crate::error::Error::Invalid(format!(
            "--base-layers {n} is out of range (valid: 0..={MAX_BASE_LAYERS})"
        ))),
        _ => Ok(()),
    }
}

/// The base image's layer count: read from `base`, else `flag` (`--base-layers`), else the
/// plan's `base_layers`.
fn base_count(
    base: Option<&Path>,
    platform: Option<&str>,
    flag: Option<u64>,
    plan: Option<&Plan>,
) -> Result<BaseCount> {
    let platform = platform.map(str::parse::<Platform>).transpose()?;
    match (base, flag) {
        (Some(_), Some(_)) => Err(Error::Invalid(
            "--base and --base-layers both give the base image's layer count; pass one".into(),
        )),
        (Some(path), None) => read_base(path, platform.as_ref()),
        (None, Some(n)) => Ok(BaseCount::given(n, "--base-layers")),
        (None, None) => Ok(BaseCount::given(
            plan.map_or(0, |p| p.base_layers),
            "base_layers",
        )),
    }
}

/// Runs `pyimage report`.
pub fn run_report(args: &ReportRequest) -> Result<ExitCode> {
    check_base_layers(args.base_layers)?;
    let plan = match &args.plan {
        Some(p) => Some(Plan::load(p)?),
        None => None,
    };
    let plan_path = args.plan.clone().unwrap_or_default();
    let descriptors = DescriptorArg::load_all(&args.descriptors)?;
    let layers = resolve(plan.as_ref(), &plan_path, &descriptors)?;
    let base = base_count(
        args.base.as_deref(),
        args.platform.as_deref(),
        args.base_layers,
        plan.as_ref(),
    )?;
    let r = report::build(plan.as_ref(), &layers, &base);
    let text = if args.html {
        let previous = match &args.previous {
            Some(p) => Some(load_report(p)?),
            None => None,
        };
        let diff = previous.map(|old| diff_reports(&old, &r));
        let mut extras = html::Extras {
            messages: Vec::new(),
            summary: None,
            tier_snippet: None,
            diff: diff.as_ref(),
        };
        if let Some(plan) = &plan {
            let sizes = PackageSizes::collect(Some(plan), &descriptors);
            sizes.check_totals(&layers, &plan_path)?;
            let outcome = validate(
                plan,
                &layers,
                &sizes,
                &ValidateOptions {
                    base_layers: Some(base.layers),
                    base_image: Some(base.clone()),
                    limit_as_warning: false,
                },
            );
            extras.messages = outcome.messages.into_iter().map(|m| m.text).collect();
            extras.summary = Some(outcome.summary);
            extras.tier_snippet = Some(layer_tier_snippet(&plan.tier.name, &plan.tier_groups()));
        }
        html::render(&r, &extras)
    } else if args.previous.is_some() {
        return Err(Error::Invalid(
            "--previous needs --html (for a text or JSON diff run `pyimage diff OLD NEW`)".into(),
        ));
    } else if args.json {
        let mut s = serde_json::to_string_pretty(&r).expect("report serialises");
        s.push('\n');
        s
    } else {
        report::render_text(&r)
    };
    emit(args.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}

/// Packages of a plan for autogroup: every pip package of its pip layers, its `deps` and
/// `package_bytes`, and the descriptors' packages of those layers.
fn plan_packages(
    plan: &Plan,
    plan_path: &Path,
    descriptors: &[DescriptorArg],
) -> Result<Vec<Package>> {
    let layers = resolve(Some(plan), plan_path, descriptors)?;
    let sizes = PackageSizes::collect(Some(plan), descriptors);
    sizes.check_totals(&layers, plan_path)?;
    let mut names: BTreeSet<String> = BTreeSet::new();
    for l in &layers {
        if matches!(
            l.kind,
            Some(LayerKind::PipGroup | LayerKind::PipSquashed | LayerKind::PipAuto) | None
        ) {
            names.extend(l.packages.iter().cloned());
        }
    }
    for (k, v) in &plan.deps {
        names.insert(k.clone());
        names.extend(v.iter().cloned());
    }
    names.extend(plan.package_bytes.keys().cloned());
    Ok(names
        .into_iter()
        .map(|n| Package {
            bytes: sizes.get(&n),
            deps: plan.deps.get(&n).cloned().unwrap_or_default(),
            name: n,
        })
        .collect())
}

fn looks_like_label(pattern: &str) -> bool {
    pattern.starts_with("//") || pattern.starts_with('@') || pattern.starts_with(':')
}

/// The tier's groups to keep next to the proposal: first-party groups.
fn kept_groups(plan: &Plan) -> Groups {
    let first_party: BTreeSet<&str> = plan
        .layers
        .iter()
        .filter(|l| l.kind == LayerKind::FirstParty)
        .map(|l| l.group.as_str())
        .collect();
    Groups(
        plan.tier_groups()
            .0
            .into_iter()
            .filter(|(name, patterns)| {
                first_party.contains(name.as_str())
                    || (!patterns.is_empty() && patterns.iter().all(|p| looks_like_label(p)))
            })
            .collect(),
    )
}

fn render_proposal(p: &Proposal, packages: &[Package], tier_name: &str, kept: &Groups) -> String {
    // fits: the sizes' total was checked (`plan_packages`, or when the list was read)
    let total: u64 = packages.iter().map(|p| p.bytes).sum();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# pyimage autogroup: {} pip packages ({}), budget {} layers: {} groups{}",
        packages.len(),
        human_bytes(total),
        p.budget,
        p.groups.len(),
        if p.squashed.is_empty() {
            String::new()
        } else {
            format!(
                " + the squashed layer ({} packages, {})",
                p.squashed.len(),
                human_bytes(p.squashed_bytes)
            )
        }
    );
    for g in &p.groups {
        let _ = writeln!(
            out,
            "#   {:<24} {:>10}  {}{}",
            g.name,
            human_bytes(g.bytes),
            g.packages.join(", "),
            if g.roots.len() > 1 {
                format!("  (shared by {})", g.roots.join(", "))
            } else {
                String::new()
            }
        );
    }
    if !p.squashed.is_empty() {
        let _ = writeln!(
            out,
            "#   {:<24} {:>10}  {}",
            "(squashed, ungrouped)",
            human_bytes(p.squashed_bytes),
            p.squashed.join(", ")
        );
    }
    let mut groups = Groups(
        p.groups
            .iter()
            .map(|g| (g.name.clone(), g.packages.clone()))
            .collect(),
    );
    if !kept.0.is_empty() {
        let _ = writeln!(
            out,
            "# first-party groups of the tier are kept: {}",
            kept.0
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        groups.0.extend(kept.0.iter().cloned());
    }
    out.push_str(&layer_tier_snippet(tier_name, &groups));
    out
}

/// Runs `pyimage autogroup`.
pub fn run_autogroup(args: &AutogroupRequest) -> Result<ExitCode> {
    check_base_layers(args.base_layers)?;
    let (packages, budget, tier_name, kept) = match (&args.plan, &args.packages) {
        (Some(plan_path), None) => {
            let plan = Plan::load(plan_path)?;
            let descriptors = DescriptorArg::load_all(&args.descriptors)?;
            let packages = plan_packages(&plan, plan_path, &descriptors)?;
            let budget = match args.budget {
                Some(b) => b,
                None => {
                    let base = base_count(
                        args.base.as_deref(),
                        args.platform.as_deref(),
                        args.base_layers,
                        Some(&plan),
                    )?
                    .layers;
                    let other = plan
                        .layers
                        .iter()
                        .filter(|l| {
                            !matches!(
                                l.kind,
                                LayerKind::PipGroup | LayerKind::PipSquashed | LayerKind::PipAuto
                            )
                        })
                        .count() as u64;
                    let b = plan.thresholds.warn_layers.saturating_sub(base + other);
                    if b < 1 {
                        return Err(Error::Plan {
                            path: plan_path.clone(),
                            message: format!(
                                "warn_layers = {} leaves no layer for pip packages after {base} base and {other} other layers; pass --budget",
                                plan.thresholds.warn_layers
                            ),
                        });
                    }
                    b
                }
            };
            let kept = kept_groups(&plan);
            (packages, budget, plan.tier.name.clone(), kept)
        }
        (None, Some(list_path)) => {
            if !args.descriptors.is_empty() {
                return Err(Error::Invalid("DESCRIPTOR arguments need --plan".into()));
            }
            let list = PackageList::load(list_path)?;
            let mut total = 0u64;
            for p in &list.packages {
                add_checked(&mut total, p.bytes, || {
                    format!(
                        "{}: package {}: bytes {}",
                        list_path.display(),
                        p.name,
                        p.bytes
                    )
                })?;
            }
            let budget = args
                .budget
                .ok_or_else(|| Error::Invalid("--budget N is required with --packages".into()))?;
            let packages = list
                .packages
                .into_iter()
                .map(|p| Package {
                    name: normalize_name(&p.name),
                    bytes: p.bytes,
                    deps: p.deps,
                })
                .collect();
            (packages, budget, String::new(), Groups::default())
        }
        _ => {
            return Err(Error::Invalid(
                "pass --plan PLAN.json [DESCRIPTOR...] or --packages FILE".into(),
            ))
        }
    };
    if budget < 1 {
        return Err(Error::Invalid("--budget must be at least 1".into()));
    }
    let proposal = autogroup(&packages, budget)?;
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&proposal).expect("proposal serialises");
        s.push('\n');
        s
    } else {
        render_proposal(&proposal, &packages, &tier_name, &kept)
    };
    emit(args.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}
