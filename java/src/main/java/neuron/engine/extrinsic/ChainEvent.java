package neuron.engine.extrinsic;

/** A runtime event, e.g. {@code System.Remarked}, with its fields as {@link ScaleCodec} decodes them. */
public record ChainEvent(String pallet, String name, Object fields) {
    public boolean is(String palletName, String eventName) {
        return pallet.equals(palletName) && name.equals(eventName);
    }

    @Override
    public String toString() {
        return pallet + "." + name;
    }
}
