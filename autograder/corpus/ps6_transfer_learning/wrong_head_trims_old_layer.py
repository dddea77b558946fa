"""replace_head that keeps the old layer and cuts its weights down to num_classes rows (not a fresh head)."""
# kind: wrong
# fails: test_replace_head_other_models

# %% replace_head
def replace_head(model, num_classes, head="fc"):
    layer = getattr(model, head)
    with torch.no_grad():
        layer.weight = nn.Parameter(layer.weight[:num_classes].clone())
        layer.bias = nn.Parameter(layer.bias[:num_classes].clone())
    layer.out_features = num_classes
    return model
