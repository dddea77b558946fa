"""param_groups whose backbone group is model.parameters(): the head is in both groups (so Adam refuses them in fine_tune too)."""
# kind: wrong
# fails: test_param_groups_resnet18 test_param_groups_other_models test_fine_tune_history test_fine_tune_learning_rates test_fine_tune_history_values test_fine_tune_target_accuracy

# %% param_groups
def param_groups(model, lr_backbone, lr_head, head="fc"):
    return [{"params": list(model.parameters()), "lr": lr_backbone},
            {"params": list(getattr(model, head).parameters()), "lr": lr_head}]
