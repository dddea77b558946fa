"""freeze_backbone that freezes the head too."""
# kind: wrong
# fails: test_freeze_backbone_resnet18 test_freeze_backbone_other_models

# %% freeze_backbone
def freeze_backbone(model, head="fc"):
    for p in model.parameters():
        p.requires_grad_(False)
    return model
