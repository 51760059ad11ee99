package neuron.engine.extrinsic;

import java.util.List;
import java.util.Map;
import neuron.engine.chain.scale.Hashing;
import neuron.engine.chain.scale.ScaleWriter;
import neuron.engine.keys.KeyPair;

/**
 * Builds v4 signed extrinsics for a runtime from its metadata:
 * {@code compact(len) ‖ 0x84 ‖ MultiAddress::Id(0x00 ‖ public key) ‖ MultiSignature(kind ‖ 64 bytes) ‖ extra ‖ call},
 * where the signature is over {@code call ‖ extra ‖ implicit} (its BLAKE2b-256 when longer than 256 bytes). Each
 * transaction extension the metadata lists contributes its part by identifier; one whose parts take no bytes needs
 * nothing, and a runtime with any other extension is refused before anything is signed.
 */
public final class ExtrinsicSigner {
    private static final int SIGNED_V4 = 0x84;
    private static final int MULTI_ADDRESS_ID = 0;
    private static final int MAX_UNHASHED_PAYLOAD = 256;

    private final RuntimeMetadata metadata;
    private final ScaleCodec codec;

    /** Checks at once that every transaction extension of the runtime is one it can sign for. */
    public ExtrinsicSigner(RuntimeMetadata metadata) {
        if (metadata.extrinsicVersion() != 4) {
            throw new IllegalArgumentException("the runtime's extrinsics are version " + metadata.extrinsicVersion()
                    + "; only version 4 is supported");
        }
        this.metadata = metadata;
        this.codec = new ScaleCodec(metadata.types());
        for (RuntimeMetadata.TransactionExtension extension : metadata.extensions()) {
            if (!known(extension.identifier()) && !(metadata.types().isEmpty(extension.extra())
                    && metadata.types().isEmpty(extension.implicit()))) {
                throw new IllegalArgumentException("cannot sign for this runtime: its transaction extension "
                        + extension.identifier() + " is not supported (extra type " + extension.extra()
                        + ", implicit type " + extension.implicit() + ")");
            }
        }
    }

    public RuntimeMetadata metadata() {
        return metadata;
    }

    /** The call {@code pallet.call(arguments…)} as the runtime encodes it; arguments as {@link ScaleCodec} takes them. */
    public byte[] call(String pallet, String call, Object... arguments) {
        RuntimeMetadata.Call described = metadata.call(pallet, call);
        if (arguments.length != described.arguments().size()) {
            throw new IllegalArgumentException(pallet + "." + call + " takes " + described.arguments().size()
                    + " arguments " + described.arguments().stream().map(TypeDef.Field::name).toList() + ", got "
                    + arguments.length);
        }
        ScaleWriter out = new ScaleWriter().u8(described.palletIndex()).u8(described.index());
        for (int i = 0; i < arguments.length; i++) {
            TypeDef.Field argument = described.arguments().get(i);
            try {
                codec.encode(argument.type(), arguments[i], out);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(pallet + "." + call + "'s argument " + argument.name() + ": "
                        + e.getMessage(), e);
            }
        }
        return out.toByteArray();
    }

    /** Signs {@code call} (named {@code callName} in logs) with {@code key} under {@code context}. */
    public SignedExtrinsic sign(KeyPair key, String callName, byte[] call, SigningContext context) {
        ScaleWriter extra = new ScaleWriter();
        ScaleWriter implicit = new ScaleWriter();
        for (RuntimeMetadata.TransactionExtension extension : metadata.extensions()) {
            try {
                contribute(extension, context, extra, implicit);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the runtime's transaction extension " + extension.identifier()
                        + " has a type this signer does not expect: " + e.getMessage(), e);
            }
        }
        byte[] payload = Hashing.concat(call, extra.toByteArray(), implicit.toByteArray());
        byte[] signed = payload.length > MAX_UNHASHED_PAYLOAD ? Hashing.blake2b256(payload) : payload;
        byte[] signature = key.sign(signed);
        byte[] body = new ScaleWriter().u8(SIGNED_V4).u8(MULTI_ADDRESS_ID).raw(key.publicKey())
                .u8(key.type().multiSignatureIndex()).raw(signature).raw(extra.toByteArray()).raw(call).toByteArray();
        byte[] bytes = new ScaleWriter().bytes(body).toByteArray();
        return new SignedExtrinsic(bytes, Hashing.blake2b256(bytes), callName, context.nonce(), context.era(),
                context.birthBlock());
    }

    private void contribute(RuntimeMetadata.TransactionExtension extension, SigningContext context, ScaleWriter extra,
                            ScaleWriter implicit) {
        switch (extension.identifier()) {
            case "CheckSpecVersion" -> codec.encode(extension.implicit(), context.specVersion(), implicit);
            case "CheckTxVersion" -> codec.encode(extension.implicit(), context.transactionVersion(), implicit);
            case "CheckGenesis" -> codec.encode(extension.implicit(), context.genesisHash(), implicit);
            case "CheckMortality", "CheckEra" -> {
                if (!(metadata.types().def(metadata.types().unwrap(extension.extra())) instanceof TypeDef.Enum)) {
                    throw new IllegalArgumentException("an era is an enum");
                }
                extra.raw(context.era().encode());
                codec.encode(extension.implicit(), context.era().immortal() ? context.genesisHash() : context.birthHash(),
                        implicit);
            }
            case "CheckNonce" -> codec.encode(extension.extra(), context.nonce(), extra);
            case "ChargeTransactionPayment", "ChargeTransactionPaymentWrapper" ->
                    codec.encode(extension.extra(), context.tip(), extra);
            case "ChargeAssetTxPayment" ->
                    codec.encode(extension.extra(), Map.of("tip", context.tip(), "asset_id", EnumValue.NONE), extra);
            case "CheckMetadataHash" -> {
                codec.encode(extension.extra(), Map.of("mode", EnumValue.of("Disabled")), extra);
                codec.encode(extension.implicit(), EnumValue.NONE, implicit);
            }
            default -> {
                // CheckNonZeroSender, CheckWeight and others whose parts take no bytes, as the constructor checked
            }
        }
    }

    private static boolean known(String identifier) {
        return List.of("CheckSpecVersion", "CheckTxVersion", "CheckGenesis", "CheckMortality", "CheckEra", "CheckNonce",
                "ChargeTransactionPayment", "ChargeTransactionPaymentWrapper", "ChargeAssetTxPayment",
                "CheckMetadataHash").contains(identifier);
    }
}
