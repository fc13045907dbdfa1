"""Public API of rules_pyimage: deterministic, well-grouped OCI image layers for py_binary.

```starlark
load("@rules_pyimage//py:defs.bzl", "LayerTierInfo", "layer_tier", "py_image_layer")
```
"""

load("//py/private:providers.bzl", _LayerTierInfo = "LayerTierInfo")
load("//py/private:py_image_layer.bzl", _py_image_layer = "py_image_layer")
load("//py/private:tier.bzl", _layer_tier = "layer_tier")

LayerTierInfo = _LayerTierInfo
layer_tier = _layer_tier
py_image_layer = _py_image_layer
