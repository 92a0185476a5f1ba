"""gradcheck of a module's output with respect to its inputs and its parameters together."""
import contextlib

import minigrad as mg


@contextlib.contextmanager
def parameters_replaced(module, tensors):
    """Run `module` with each parameter swapped for the tensor of the same name, wherever the
    module or its submodules hold it, so gradcheck can vary the parameters as inputs."""
    by_id = {id(p): tensors[name] for name, p in module.named_parameters()}
    swapped = []
    for m in module.modules():
        for attr, value in list(vars(m).items()):
            if id(value) in by_id:
                swapped.append((m, attr, value))
                object.__setattr__(m, attr, by_id[id(value)])
    try:
        yield
    finally:
        for m, attr, value in swapped:
            object.__setattr__(m, attr, value)


def check(module, fn, data):
    """gradcheck fn(*data, *parameters) with the module's parameters as checked inputs."""
    names = [name for name, _ in module.named_parameters()]

    def with_params(*args):
        inputs, params = args[:len(data)], args[len(data):]
        with parameters_replaced(module, dict(zip(names, params, strict=True))):
            return fn(*inputs)

    params = [p.data for _, p in module.named_parameters()]
    assert mg.gradcheck(with_params, list(data) + params)
