"""replace_head that ignores its head argument and always replaces model.fc."""
# kind: wrong
# fails: test_replace_head_other_models

# %% replace_head
def replace_head(model, num_classes, head="fc"):
    old = getattr(model, head)
    model.fc = nn.Linear(old.in_features, num_classes)
    return model
