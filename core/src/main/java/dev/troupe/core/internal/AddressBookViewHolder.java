package dev.troupe.core.internal;

/**
 * INTERNAL API. The published {@link AddressBookView}: written by {@link AddressBookActor} only,
 * read by anyone without locking.
 */
public final class AddressBookViewHolder {
  private volatile AddressBookView view = AddressBookView.initial();

  /** The current view. */
  public AddressBookView view() {
    return view;
  }

  /** Actor only: replaces the view. */
  void set(AddressBookView newView) {
    view = newView;
  }
}
