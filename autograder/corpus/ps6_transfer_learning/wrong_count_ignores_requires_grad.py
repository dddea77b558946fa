"""count_trainable that counts every parameter, frozen or not."""
# kind: wrong
# fails: test_count_trainable_resnet18 test_count_trainable_other_models

# %% count_trainable
def count_trainable(model):
    return sum(p.numel() for p in model.parameters())
