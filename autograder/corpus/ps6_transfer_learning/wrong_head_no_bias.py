"""replace_head with a new head without bias."""
# kind: wrong
# fails: test_replace_head_resnet18 test_replace_head_other_models

# %% replace_head
def replace_head(model, num_classes, head="fc"):
    setattr(model, head, nn.Linear(getattr(model, head).in_features, num_classes, bias=False))
    return model
