"""freeze_backbone that freezes the backbone but leaves an already frozen head frozen."""
# kind: wrong
# fails: test_freeze_backbone_other_models

# %% freeze_backbone
def freeze_backbone(model, head="fc"):
    head_ids = {id(p) for p in getattr(model, head).parameters()}
    for p in model.parameters():
        if id(p) not in head_ids:
            p.requires_grad_(False)
    return model
