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

def _run_plan_command(ctx, tool, command, mnemonic, plan, descriptors, output, flags):
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
        inputs = [plan] + descriptors,
        outputs = [output],
        mnemonic = mnemonic,
        progress_message = mnemonic + " %{label}",
    )

def declare_report(ctx, tool, plan, descriptors, report):
    """`pyimage report`: the human-readable layer table (the `report` output group)."""
    _run_plan_command(ctx, tool, "report", "PyImageReport", plan, descriptors, report, [])

def declare_validation(ctx, tool, plan, descriptors, validation, limit_as_warning):
    """`pyimage validate`: warnings, and a failure past the layer limit unless `limit_as_warning`."""
    _run_plan_command(
        ctx,
        tool,
        "validate",
        "PyImageValidate",
        plan,
        descriptors,
        validation,
        ["--limit-as-warning"] if limit_as_warning else [],
    )
