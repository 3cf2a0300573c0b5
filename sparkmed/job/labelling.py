"""The saved model that labels new rows (``sparkmed assign``, batch and ``--stream``), prepared and checked
before any job over the data: custom metrics only from modules the user trusts, feature columns renamed,
every needed column present, the dimension of named columns equal to the model's."""

from __future__ import annotations

from sparkmed.errors import InputError
from sparkmed.job.io import check_column, describe_input, resolve_features


def trusted_metrics(modules: list[str]) -> dict:
    """The custom metrics of the modules the user chose to trust (``--trust-module``): every ``numba.njit``
    function they define, by its ``custom:<module>.<qualname>`` name. Only these user-named modules are
    imported; nothing a model's files name ever is."""
    import importlib

    import numba

    from sparkmed.kernels.custom import custom_name

    found: dict = {}
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise InputError(f"config key 'assign.trust_modules': cannot import {name!r}: {exc}") from None
        for value in vars(module).values():
            if isinstance(value, numba.core.registry.CPUDispatcher):
                found[custom_name(value)] = value
    return found


def labelling_model(df, cfg: dict, model_dir: str, phases):
    """(model, id column or None) for labelling ``df`` (``assign``, batch or stream): the saved model loaded
    (custom metrics only from ``assign.trust_modules``), its feature columns renamed to ``input.features``
    when given, and every column the labelling needs checked to exist, before any job over the data. The
    width of one array/vector column is checked by ``count_rows`` (batch only)."""
    from sparkmed import KMedoidsModel
    from sparkmed.ml.plan import feature_spec

    inp, outc = cfg["input"], cfg["output"]
    trusted = trusted_metrics(cfg["assign"]["trust_modules"])
    model = phases.run("load model", KMedoidsModel.load, model_dir, customMetrics=trusted)
    if inp["features"]:  # the new data may name its feature columns differently
        feature_params = resolve_features(df, inp["features"], model.getMetric(), describe_input(inp))
        for name in ("featuresCol", "inputCols"):
            model.clear(model.getParam(name))
        for name, value in feature_params.items():
            model.set(model.getParam(name), value)
    id_col = inp["id"] or (model.getIdCol() if model.getIdCol() in df.columns else None)
    check_column(df, id_col or "", "input.id")
    for c in outc["assignment_columns"]:
        check_column(df, c, "output.assignment_columns")
    spec = feature_spec(model)
    needed = list(spec.inputCols) if spec.inputCols else [spec.featuresCol]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise InputError(f"the model's feature column(s) {', '.join(missing)} are not in the input; name the "
                            f"input's columns with input.features (--features) (columns: {', '.join(df.columns)})")
    dense = model.getEncoding().kind == "dense"
    dim = int(model.medoids().shape[1])
    if dense and spec.inputCols and len(spec.inputCols) != dim:
        raise InputError(f"config key 'input.features': {len(spec.inputCols)} feature column(s) "
                            f"({', '.join(spec.inputCols)}) but the model {model_dir!r} has dimension {dim}; name "
                            f"{dim} columns, in the order the model was fitted on")
    return model, id_col
