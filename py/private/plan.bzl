"""The plan: the JSON file describing a binary's layers (format in docs/tool.md), and the
two actions that read it, `pyimage report` and `pyimage validate`."""

def _graph_json(line):
    name, _version, deps = line.split("\t")
    return json.encode(name) + ":" + json.encode([d for d in deps.split(",") if d])

def _fragment_name_json(fragment):
    return json.encode(fragment.name)

def write_plan(ctx, plan, tier, base_layers, layers, unmatched, graph):
    """Writes the plan lazily (through Args: no depset is flattened here).

    Args:
      ctx: rule context.
      plan: the declared plan File.
      tier: LayerTierInfo.
      base_layers: layers of the base image below these.
      layers: the layers in image order (merge_aspect.bzl's `layer`).
      unmatched: list of (group, pattern) to report as matching nothing.
      graph: depset of "name\\tversion\\tdep1,dep2" strings (FragmentsInfo.graph).
    """
    pa = ctx.actions.args()
    pa.set_param_file_format("multiline")
    pa.add("{")
    pa.add('"schema":1,"target":%s,"tier":%s,"base_layers":%d,' % (
        json.encode(str(ctx.label)),
        json.encode({"name": tier.label.name, "label": str(tier.label)}),
        base_layers,
    ))
    pa.add('"thresholds":%s,' % json.encode({
        "warn_layers": tier.warn_layers,
        "max_layers": tier.max_layers,
        "max_squashed_bytes": tier.max_squashed_bytes,
        "max_package_bytes": tier.max_package_bytes,
    }))
    pa.add('"groups":%s,' % json.encode([[g, p] for g, p in tier.groups.items()]))
    pa.add('"unmatched":%s,' % json.encode([{"group": g, "pattern": p} for g, p in unmatched]))
    pa.add('"layers":[')
    for i, layer in enumerate(layers):
        pa.add('{"group":%s,"kind":%s,"descriptor":%d,"packages":[' % (json.encode(layer.group), json.encode(layer.kind), i))
        if layer.patterns:
            pa.add_joined(layer.patterns, join_with = ",", map_each = json.encode, uniquify = True, omit_if_empty = False)
        else:
            pa.add_joined(layer.fragments, join_with = ",", map_each = _fragment_name_json, uniquify = True, omit_if_empty = False)
        pa.add("]}" + ("," if i + 1 < len(layers) else ""))
    pa.add("],")
    pa.add_joined(graph, join_with = ",", map_each = _graph_json, format_joined = '"deps":{%s}', omit_if_empty = False)
    pa.add("}")
    ctx.actions.write(plan, pa)

def _run_plan_command(ctx, tool, command, mnemonic, plan, descriptors, output, flags, extra_inputs = []):
    """Runs `pyimage <command> --plan PLAN --output OUTPUT FLAGS... DESCRIPTORS...`."""
    args = ctx.actions.args()
    args.add(command)
    args.add("--plan", plan)
    args.add("--output", output)
    args.add_all(flags)
    args.add_all(descriptors)
    ctx.actions.run(
        executable = tool,
        arguments = [args],
        inputs = [plan] + descriptors + extra_inputs,
        outputs = [output],
        mnemonic = mnemonic,
        progress_message = mnemonic + " %{label}",
    )

def declare_report(ctx, tool, plan, descriptors, prefix, previous, base = None):
    """`pyimage report` as a table, JSON and an HTML page; `pyimage diff` against `previous`.

    Args:
      ctx: the rule context.
      tool: the `pyimage` executable.
      plan: the plan JSON.
      descriptors: the layers' descriptors, in order.
      prefix: path prefix of the outputs.
      previous: a previous build's `report.json` File, or None.
      base: base_image.bzl's `base_image(ctx)` (flags and inputs), or None.

    Returns:
      struct(report = [txt, json, html], diff = [diff.txt, diff.json] or []).
    """
    base_flags = base.flags if base else []
    base_inputs = base.inputs if base else []
    text = ctx.actions.declare_file(prefix + "report.txt")
    _run_plan_command(ctx, tool, "report", "PyImageReport", plan, descriptors, text, base_flags, base_inputs)
    report_json = ctx.actions.declare_file(prefix + "report.json")
    _run_plan_command(ctx, tool, "report", "PyImageReportJson", plan, descriptors, report_json, ["--json"] + base_flags, base_inputs)
    html = ctx.actions.declare_file(prefix + "report.html")
    _run_plan_command(
        ctx,
        tool,
        "report",
        "PyImageReportHtml",
        plan,
        descriptors,
        html,
        ["--html"] + base_flags + (["--previous", previous.path] if previous else []),
        base_inputs + ([previous] if previous else []),
    )
    diff = []
    if previous:
        for suffix, flags in [("txt", []), ("json", ["--json"])]:
            out = ctx.actions.declare_file(prefix + "diff." + suffix)
            args = ctx.actions.args()
            args.add("diff")
            args.add("--output", out)
            args.add_all(flags)
            args.add(previous)
            args.add(report_json)
            ctx.actions.run(
                executable = tool,
                arguments = [args],
                inputs = [previous, report_json],
                outputs = [out],
                mnemonic = "PyImageDiff",
                progress_message = "PyImageDiff %{label}",
            )
            diff.append(out)
    return struct(report = [text, report_json, html], diff = diff)

def previous_report(ctx):
    """The one file of the `previous_report` flag, or None when the flag is unset.

    Args:
      ctx: the rule context (attribute `_previous_report`).

    Returns:
      a File or None.
    """
    files = ctx.files._previous_report
    if not files:
        return None
    if len(files) != 1 or not files[0].basename.endswith(".json"):
        fail("--@rules_pyimage//py:previous_report must name one `report.json` file (the `report` output group of an earlier build), got: %s" % [f.path for f in files])
    return files[0]

def declare_validation(ctx, tool, plan, descriptors, validation, limit_as_warning, base = None):
    """`pyimage validate`: warnings, and a failure past the layer limit unless `limit_as_warning`.

    Args:
      ctx: the rule context.
      tool: the `pyimage` executable.
      plan: the plan JSON.
      descriptors: the layers' descriptors, in order.
      validation: the output File.
      limit_as_warning: report a count past max_layers as a warning.
      base: base_image.bzl's `base_image(ctx)` (the base image read for its layer count), or None.
    """
    _run_plan_command(
        ctx,
        tool,
        "validate",
        "PyImageValidate",
        plan,
        descriptors,
        validation,
        (["--limit-as-warning"] if limit_as_warning else []) + (base.flags if base else []),
        base.inputs if base else [],
    )
