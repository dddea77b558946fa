"""param_groups that gives the backbone lr_head and the head lr_backbone."""
# kind: wrong
# fails: test_param_groups_resnet18 test_param_groups_other_models test_fine_tune_learning_rates

# %% param_groups
def param_groups(model, lr_backbone, lr_head, head="fc"):
    head_ids = {id(p) for p in getattr(model, head).parameters()}
    return [{"params": [p for p in model.parameters() if id(p) not in head_ids], "lr": lr_head},
            {"params": [p for p in model.parameters() if id(p) in head_ids], "lr": lr_backbone}]
