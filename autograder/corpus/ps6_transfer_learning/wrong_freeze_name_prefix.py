"""freeze_backbone that keeps every parameter whose name starts with the head's name (fc0 too)."""
# kind: wrong
# fails: test_freeze_backbone_other_models

# %% freeze_backbone
def freeze_backbone(model, head="fc"):
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith(head))
    return model
