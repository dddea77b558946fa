"""count_trainable that counts parameter tensors instead of their elements."""
# kind: wrong
# fails: test_count_trainable_resnet18 test_count_trainable_other_models

# %% count_trainable
def count_trainable(model):
    return len([p for p in model.parameters() if p.requires_grad])
