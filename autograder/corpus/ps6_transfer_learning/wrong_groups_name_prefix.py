"""param_groups that puts every parameter whose name starts with the head's name into the head group (fc0 too)."""
# kind: wrong
# fails: test_param_groups_other_models

# %% param_groups
def param_groups(model, lr_backbone, lr_head, head="fc"):
    named = list(model.named_parameters())
    return [{"params": [p for n, p in named if not n.startswith(head)], "lr": lr_backbone},
            {"params": [p for n, p in named if n.startswith(head)], "lr": lr_head}]
