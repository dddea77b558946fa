"""freeze_backbone that freezes only the convolutions and leaves batch norm and other layers trainable."""
# kind: wrong
# fails: test_freeze_backbone_resnet18 test_freeze_backbone_other_models

# %% freeze_backbone
def freeze_backbone(model, head="fc"):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.requires_grad_(False)
    return model
