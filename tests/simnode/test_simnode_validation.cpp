// POST /prompt validation of the simulated node: the recorded rejections (d_invalid_workflows,
// e_missing_input_file) replayed, and the other checks of ComfyUI's validate_prompt with the
// wording of the recorded version.

#include "simnodetestkit.h"
#include "simulatednode.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace simtest;

class TestSimnodeValidation : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void replay_data();
    void replay();

    void numbersOutOfRange();
    void conversionFailures();
    void returnTypeMismatch();
    void longListsAreSummarized();
    void modelListsComeFromTheFolders();
    void modelSubfoldersAndSymlinks();
    void clipAndUnetFolders();
    void annotatedImageNames();
    void danglingLinkInsideTheGraph();
    void missingClassType();
    void cycleIsRejected();
    void oneGoodOutputIsEnough();
    void valuesAreConverted();
    void noPromptAndBadJson();

private:
    // POST /prompt; the JSON answer (and its status in *status).
    QJsonObject submit(const QJsonObject &prompt, int *status);
    static QJsonObject firstError(const QJsonObject &answer, const QString &node);

    std::unique_ptr<QTemporaryDir> m_root;
    std::unique_ptr<simnode::SimulatedNode> m_node;
    std::unique_ptr<Http> m_http;
};

namespace {

QJsonObject node(const QString &cls, const QJsonObject &inputs)
{
    return QJsonObject{{QStringLiteral("class_type"), cls}, {QStringLiteral("inputs"), inputs}};
}

QJsonArray link(const QString &id, int slot = 0)
{
    return QJsonArray{id, slot};
}

void touch(const QString &path, const QByteArray &content = "not a real model")
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(content);
}

} // namespace

void TestSimnodeValidation::init()
{
    m_root = std::make_unique<QTemporaryDir>();
    QVERIFY(m_root->isValid());
    writePng(m_root->filePath(QStringLiteral("input/in.png")), 24, 16);
    m_node = std::make_unique<simnode::SimulatedNode>(m_root->path());
    m_node->setStepDelayMs(1);
    QVERIFY(m_node->listen() != 0);
    m_http = std::make_unique<Http>(m_node->url());
}

void TestSimnodeValidation::cleanup()
{
    m_http.reset();
    m_node.reset();
    m_root.reset();
}

QJsonObject TestSimnodeValidation::submit(const QJsonObject &prompt, int *status)
{
    const HttpResponse response = m_http->postJson(
        QStringLiteral("/prompt"),
        QJsonObject{{QStringLiteral("prompt"), prompt}, {QStringLiteral("client_id"), "v"}});
    *status = response.status;
    return response.json().toObject();
}

QJsonObject TestSimnodeValidation::firstError(const QJsonObject &answer, const QString &node)
{
    return answer.value(QLatin1String("node_errors"))
        .toObject()
        .value(node)
        .toObject()
        .value(QLatin1String("errors"))
        .toArray()
        .at(0)
        .toObject();
}

void TestSimnodeValidation::replay_data()
{
    QTest::addColumn<QString>("name");
    QTest::newRow("d_invalid_workflows") << QStringLiteral("d_invalid_workflows");
    QTest::newRow("e_missing_input_file") << QStringLiteral("e_missing_input_file");
}

void TestSimnodeValidation::replay()
{
    QFETCH(QString, name);
    const Transcript t = loadTranscript(name);
    QVERIFY(!t.json.isEmpty());
    prepareInputs(m_root->path(), t);
    Replayer replayer(*m_node, t);
    QVERIFY2(replayer.run(), qPrintable(replayer.error()));
}

void TestSimnodeValidation::numbersOutOfRange()
{
    touch(m_root->filePath(QStringLiteral("models/checkpoints/m.safetensors")));
    const QJsonObject prompt{
        {"1", node("LoadImage", {{"image", "in.png"}})},
        {"2", node("ImageScale", {{"image", link("1")},
                                  {"upscale_method", "bilinear"},
                                  {"width", -5},
                                  {"height", 99999},
                                  {"crop", "disabled"}})},
        {"3", node("SaveImage", {{"images", link("2")}, {"filename_prefix", "x"}})},
        {"4", node("CheckpointLoaderSimple", {{"ckpt_name", "m.safetensors"}})},
        {"5", node("EmptyLatentImage", {{"width", 64}, {"height", 64}, {"batch_size", 1}})},
        {"6", node("CLIPTextEncode", {{"text", "x"}, {"clip", link("4", 1)}})},
        {"7", node("KSampler", {{"model", link("4")},
                                {"seed", 1},
                                {"steps", 1},
                                {"cfg", 150.5},
                                {"sampler_name", "euler"},
                                {"scheduler", "normal"},
                                {"positive", link("6")},
                                {"negative", link("6")},
                                {"latent_image", link("5")},
                                {"denoise", 1}})},
        {"8", node("VAEDecode", {{"samples", link("7")}, {"vae", link("4", 2)}})},
        {"9", node("PreviewImage", {{"images", link("8")}})},
    };
    int status = 0;
    const QJsonObject answer = submit(prompt, &status);
    QCOMPARE(status, 400);
    QCOMPARE(answer.value("error").toObject().value("type").toString(),
             QStringLiteral("prompt_outputs_failed_validation"));
    const QJsonArray scaleErrors =
        answer.value("node_errors").toObject().value("2").toObject().value("errors").toArray();
    QCOMPARE(scaleErrors.size(), 2);
    QJsonObject small, big;
    for (const QJsonValue &e : scaleErrors) {
        if (e.toObject().value("type") == QLatin1String("value_smaller_than_min"))
            small = e.toObject();
        else
            big = e.toObject();
    }
    QCOMPARE(small.value("message").toString(), QStringLiteral("Value -5 smaller than min of 0"));
    QCOMPARE(small.value("details").toString(), QStringLiteral("width"));
    QCOMPARE(small.value("extra_info").toObject().value("received_value").toInt(), -5);
    QCOMPARE(jsonText(small.value("extra_info").toObject().value("input_config")),
             QStringLiteral(R"(["INT",{"default":512,"max":16384,"min":0,"step":1}])"));
    QCOMPARE(big.value("type").toString(), QStringLiteral("value_bigger_than_max"));
    QCOMPARE(big.value("message").toString(),
             QStringLiteral("Value 99999 bigger than max of 16384"));
    const QJsonObject cfg = firstError(answer, QStringLiteral("7"));
    QCOMPARE(cfg.value("type").toString(), QStringLiteral("value_bigger_than_max"));
    QCOMPARE(cfg.value("message").toString(),
             QStringLiteral("Value 150.5 bigger than max of 100.0"));
    QCOMPARE(cfg.value("details").toString(), QStringLiteral("cfg"));
    QCOMPARE(jsonText(answer.value("node_errors")
                          .toObject()
                          .value("7")
                          .toObject()
                          .value("dependent_outputs")),
             QStringLiteral(R"(["9"])"));
}

void TestSimnodeValidation::conversionFailures()
{
    touch(m_root->filePath(QStringLiteral("models/checkpoints/m.safetensors")));
    const QJsonObject prompt{
        {"4", node("CheckpointLoaderSimple", {{"ckpt_name", "m.safetensors"}})},
        {"5", node("EmptyLatentImage", {{"width", "1.5"}, {"height", 64}, {"batch_size", 1}})},
        {"6", node("CLIPTextEncode", {{"text", "x"}, {"clip", link("4", 1)}})},
        {"7", node("KSampler", {{"model", link("4")},
                                {"seed", 1},
                                {"steps", 1},
                                {"cfg", "abc"},
                                {"sampler_name", "euler"},
                                {"scheduler", "normal"},
                                {"positive", link("6")},
                                {"negative", link("6")},
                                {"latent_image", link("5")},
                                {"denoise", QJsonValue::Null}})},
        {"8", node("VAEDecode", {{"samples", link("7")}, {"vae", link("4", 2)}})},
        {"9", node("SaveImage", {{"images", link("8")}, {"filename_prefix", "x"}})},
    };
    int status = 0;
    const QJsonObject answer = submit(prompt, &status);
    QCOMPARE(status, 400);
    const QJsonObject width = firstError(answer, QStringLiteral("5"));
    QCOMPARE(width.value("type").toString(), QStringLiteral("invalid_input_type"));
    QCOMPARE(width.value("message").toString(),
             QStringLiteral("Failed to convert an input value to a INT value"));
    QCOMPARE(width.value("details").toString(),
             QStringLiteral("width, 1.5, invalid literal for int() with base 10: '1.5'"));
    const QJsonArray samplerErrors =
        answer.value("node_errors").toObject().value("7").toObject().value("errors").toArray();
    QStringList details;
    for (const QJsonValue &e : samplerErrors)
        details << e.toObject().value("details").toString();
    details.sort();
    QCOMPARE(details,
             QStringList({QStringLiteral("cfg, abc, could not convert string to float: 'abc'"),
                          QStringLiteral("denoise, None, float() argument must be a string or a "
                                         "real number, not 'NoneType'")}));
}

void TestSimnodeValidation::returnTypeMismatch()
{
    const QJsonObject prompt{
        {"1", node("EmptyLatentImage", {{"width", 64}, {"height", 64}, {"batch_size", 1}})},
        {"2", node("SaveImage", {{"images", link("1")}, {"filename_prefix", "x"}})},
    };
    int status = 0;
    const QJsonObject answer = submit(prompt, &status);
    QCOMPARE(status, 400);
    const QJsonObject error = firstError(answer, QStringLiteral("2"));
    QCOMPARE(error.value("type").toString(), QStringLiteral("return_type_mismatch"));
    QCOMPARE(error.value("message").toString(),
             QStringLiteral("Return type mismatch between linked nodes"));
    QCOMPARE(error.value("details").toString(),
             QStringLiteral("images, received_type(LATENT) mismatch input_type(IMAGE)"));
    QCOMPARE(error.value("extra_info").toObject().value("received_type").toString(),
             QStringLiteral("LATENT"));
    QCOMPARE(jsonText(error.value("extra_info").toObject().value("linked_node")),
             QStringLiteral(R"(["1",0])"));
    QCOMPARE(answer.value("error").toObject().value("details").toString(),
             QStringLiteral("Return type mismatch between linked nodes: images, "
                            "received_type(LATENT) mismatch input_type(IMAGE)"));
}

void TestSimnodeValidation::longListsAreSummarized()
{
    touch(m_root->filePath(QStringLiteral("models/checkpoints/m.safetensors")));
    const QJsonObject prompt{
        {"4", node("CheckpointLoaderSimple", {{"ckpt_name", "m.safetensors"}})},
        {"5", node("EmptyLatentImage", {{"width", 64}, {"height", 64}, {"batch_size", 1}})},
        {"6", node("CLIPTextEncode", {{"text", "x"}, {"clip", link("4", 1)}})},
        {"7", node("KSampler", {{"model", link("4")},
                                {"seed", 1},
                                {"steps", 1},
                                {"cfg", 7},
                                {"sampler_name", "no-such-sampler"},
                                {"scheduler", "normal"},
                                {"positive", link("6")},
                                {"negative", link("6")},
                                {"latent_image", link("5")},
                                {"denoise", 1}})},
        {"8", node("VAEDecode", {{"samples", link("7")}, {"vae", link("4", 2)}})},
        {"9", node("SaveImage", {{"images", link("8")}, {"filename_prefix", "x"}})},
    };
    int status = 0;
    const QJsonObject answer = submit(prompt, &status);
    QCOMPARE(status, 400);
    const QJsonObject error = firstError(answer, QStringLiteral("7"));
    QCOMPARE(error.value("type").toString(), QStringLiteral("value_not_in_list"));
    QCOMPARE(error.value("details").toString(),
             QStringLiteral("sampler_name: 'no-such-sampler' not in (list of length 29)"));
    QVERIFY(error.value("extra_info").toObject().value("input_config").isNull());
}

void TestSimnodeValidation::modelListsComeFromTheFolders()
{
    touch(m_root->filePath(QStringLiteral("models/checkpoints/SDXL/model.safetensors")));
    touch(m_root->filePath(QStringLiteral("models/checkpoints/a.ckpt")));
    touch(m_root->filePath(QStringLiteral("models/checkpoints/notes.txt")));
    const QJsonObject prompt{
        {"1", node("CheckpointLoaderSimple", {{"ckpt_name", "v1-5-pruned-emaonly.safetensors"}})},
        {"2", node("EmptyLatentImage", {{"width", 64}, {"height", 64}, {"batch_size", 1}})},
        {"3", node("VAEDecode", {{"samples", link("2")}, {"vae", link("1", 2)}})},
        {"4", node("SaveImage", {{"images", link("3")}, {"filename_prefix", "x"}})},
    };
    int status = 0;
    const QJsonObject answer = submit(prompt, &status);
    QCOMPARE(status, 400);
    const QJsonObject error = firstError(answer, QStringLiteral("1"));
    QCOMPARE(error.value("type").toString(), QStringLiteral("value_not_in_list"));
    QCOMPARE(error.value("details").toString(),
             QStringLiteral("ckpt_name: 'v1-5-pruned-emaonly.safetensors' not in "
                            "['SDXL/model.safetensors', 'a.ckpt']"));
    // /models/checkpoints and /object_info list the same files.
    QCOMPARE(jsonText(m_http->get(QStringLiteral("/models/checkpoints")).json()),
             QStringLiteral(R"(["SDXL/model.safetensors","a.ckpt"])"));
    const QJsonValue info = m_http->get(QStringLiteral("/object_info/CheckpointLoaderSimple"))
                                .json()
                                .toObject()
                                .value("CheckpointLoaderSimple")
                                .toObject()
                                .value("input")
                                .toObject()
                                .value("required")
                                .toObject()
                                .value("ckpt_name")
                                .toArray()
                                .at(0);
    QCOMPARE(jsonText(info), QStringLiteral(R"(["SDXL/model.safetensors","a.ckpt"])"));
    QCOMPARE(m_http->get(QStringLiteral("/models/no_such_folder")).status, 404);
}

void TestSimnodeValidation::modelSubfoldersAndSymlinks()
{
    QTemporaryDir elsewhere;
    touch(elsewhere.filePath(QStringLiteral("real.safetensors")));
    QVERIFY(QDir().mkpath(m_root->filePath(QStringLiteral("models/loras"))));
    QVERIFY(QFile::link(elsewhere.filePath(QStringLiteral("real.safetensors")),
                        m_root->filePath(QStringLiteral("models/loras/linked.safetensors"))));
    touch(m_root->filePath(QStringLiteral("models/checkpoints/SDXL/model.safetensors")));
    const QJsonObject prompt{
        {"1", node("CheckpointLoaderSimple", {{"ckpt_name", "SDXL/model.safetensors"}})},
        {"2", node("LoraLoader", {{"model", link("1")},
                                  {"clip", link("1", 1)},
                                  {"lora_name", "linked.safetensors"},
                                  {"strength_model", 1},
                                  {"strength_clip", 1}})},
        {"3", node("EmptyLatentImage", {{"width", 64}, {"height", 64}, {"batch_size", 1}})},
        {"4", node("CLIPTextEncode", {{"text", "x"}, {"clip", link("2", 1)}})},
        {"5", node("KSampler", {{"model", link("2")},
                                {"seed", 1},
                                {"steps", 2},
                                {"cfg", 7},
                                {"sampler_name", "euler"},
                                {"scheduler", "normal"},
                                {"positive", link("4")},
                                {"negative", link("4")},
                                {"latent_image", link("3")},
                                {"denoise", 1}})},
        {"6", node("VAEDecode", {{"samples", link("5")}, {"vae", link("1", 2)}})},
        {"7", node("SaveImage", {{"images", link("6")}, {"filename_prefix", "x"}})},
    };
    int status = 0;
    const QJsonObject answer = submit(prompt, &status);
    QCOMPARE(status, 200);
    QCOMPARE(jsonText(answer.value("node_errors")), QStringLiteral("{}"));
    QSignalSpy finished(m_node.get(), &simnode::SimulatedNode::promptFinished);
    QVERIFY(finished.wait(10000));
    QCOMPARE(finished.at(0).at(1).toBool(), true);
}

void TestSimnodeValidation::clipAndUnetFolders()
{
    touch(m_root->filePath(QStringLiteral("models/unet/flux.safetensors")));
    touch(m_root->filePath(QStringLiteral("models/diffusion_models/other.safetensors")));
    touch(m_root->filePath(QStringLiteral("models/clip/clip_l.safetensors")));
    touch(m_root->filePath(QStringLiteral("models/text_encoders/t5xxl.safetensors")));
    touch(m_root->filePath(QStringLiteral("models/vae/ae.safetensors")));
    const QJsonObject prompt{
        {"1", node("UNETLoader", {{"unet_name", "flux.safetensors"}, {"weight_dtype", "default"}})},
        {"2", node("DualCLIPLoader", {{"clip_name1", "t5xxl.safetensors"},
                                      {"clip_name2", "clip_l.safetensors"},
                                      {"type", "flux"}})},
        {"3", node("VAELoader", {{"vae_name", "ae.safetensors"}})},
        {"4", node("CLIPTextEncode", {{"text", "a cat"}, {"clip", link("2")}})},
        {"5", node("FluxGuidance", {{"conditioning", link("4")}, {"guidance", 3.5}})},
        {"6", node("EmptySD3LatentImage", {{"width", 48}, {"height", 32}, {"batch_size", 1}})},
        {"7", node("KSampler", {{"model", link("1")},
                                {"seed", 1},
                                {"steps", 2},
                                {"cfg", 1},
                                {"sampler_name", "euler"},
                                {"scheduler", "simple"},
                                {"positive", link("5")},
                                {"negative", link("4")},
                                {"latent_image", link("6")},
                                {"denoise", 1}})},
        {"8", node("VAEDecode", {{"samples", link("7")}, {"vae", link("3")}})},
        {"9", node("SaveImage", {{"images", link("8")}, {"filename_prefix", "flux/x"}})},
    };
    int status = 0;
    const QJsonObject answer = submit(prompt, &status);
    QCOMPARE(status, 200);
    QSignalSpy finished(m_node.get(), &simnode::SimulatedNode::promptFinished);
    QVERIFY(finished.wait(10000));
    QVERIFY(finished.at(0).at(1).toBool());
    const QString id = answer.value("prompt_id").toString();
    const QJsonObject entry =
        m_http->get(QStringLiteral("/history/") + id).json().toObject().value(id).toObject();
    QCOMPARE(
        jsonText(entry.value("outputs")),
        QStringLiteral(
            R"({"9":{"images":[{"filename":"x_00001_.png","subfolder":"flux","type":"output"}]}})"));
    const HttpResponse view =
        m_http->get(QStringLiteral("/view?filename=x_00001_.png&subfolder=flux&type=output"));
    QCOMPARE(view.status, 200);
    QCOMPARE(QImage::fromData(view.body).size(), QSize(48, 32));
    // Both folders of each kind are listed.
    QCOMPARE(jsonText(m_http->get(QStringLiteral("/models/diffusion_models")).json()),
             QStringLiteral(R"(["flux.safetensors","other.safetensors"])"));
    QCOMPARE(jsonText(m_http->get(QStringLiteral("/models/text_encoders")).json()),
             QStringLiteral(R"(["clip_l.safetensors","t5xxl.safetensors"])"));
}

void TestSimnodeValidation::annotatedImageNames()
{
    writePng(m_root->filePath(QStringLiteral("output/previous.png")), 10, 10);
    const QJsonObject ok{
        {"1", node("LoadImage", {{"image", "previous.png [output]"}})},
        {"2", node("PreviewImage", {{"images", link("1")}})},
    };
    int status = 0;
    submit(ok, &status);
    QCOMPARE(status, 200);
    const QJsonObject missing{
        {"1", node("LoadImage", {{"image", "previous.png"}})},
        {"2", node("PreviewImage", {{"images", link("1")}})},
    };
    const QJsonObject answer = submit(missing, &status);
    QCOMPARE(status, 400);
    const QJsonObject error = firstError(answer, QStringLiteral("1"));
    QCOMPARE(error.value("type").toString(), QStringLiteral("custom_validation_failed"));
    QCOMPARE(error.value("details").toString(),
             QStringLiteral("image - Invalid image file: previous.png"));
}

void TestSimnodeValidation::danglingLinkInsideTheGraph()
{
    const QJsonObject prompt{
        {"2", node("ImageInvert", {{"image", link("9")}})},
        {"3", node("SaveImage", {{"images", link("2")}, {"filename_prefix", "x"}})},
    };
    int status = 0;
    const QJsonObject answer = submit(prompt, &status);
    QCOMPARE(status, 400);
    // The output itself has no error of its own: the details are empty, the inner node has it.
    QCOMPARE(answer.value("error").toObject().value("details").toString(), QString());
    const QJsonObject error = firstError(answer, QStringLiteral("2"));
    QCOMPARE(error.value("type").toString(), QStringLiteral("exception_during_inner_validation"));
    QCOMPARE(error.value("message").toString(),
             QStringLiteral("Exception when validating inner node"));
    QCOMPARE(error.value("details").toString(), QStringLiteral("'9'"));
    QCOMPARE(error.value("extra_info").toObject().value("exception_type").toString(),
             QStringLiteral("KeyError"));
}

void TestSimnodeValidation::missingClassType()
{
    int status = 0;
    const QJsonObject answer =
        submit(QJsonObject{{"1", QJsonObject{{"inputs", QJsonObject{}}}}}, &status);
    QCOMPARE(status, 400);
    QCOMPARE(
        jsonText(answer),
        QStringLiteral(
            R"({"error":{"details":"Node ID '#1'","extra_info":{},"message":"Cannot execute because a node is missing the class_type property.","type":"invalid_prompt"},"node_errors":[]})"));
}

void TestSimnodeValidation::cycleIsRejected()
{
    const QJsonObject prompt{
        {"1", node("ImageInvert", {{"image", link("2")}})},
        {"2", node("ImageInvert", {{"image", link("1")}})},
        {"3", node("SaveImage", {{"images", link("2")}, {"filename_prefix", "x"}})},
    };
    int status = 0;
    const QJsonObject answer = submit(prompt, &status);
    QCOMPARE(status, 400);
    QCOMPARE(answer.value("error").toObject().value("type").toString(),
             QStringLiteral("prompt_outputs_failed_validation"));
    // Like the recorded version's RecursionError: the frames that unwind overwrite the inner
    // error, nothing runs.
    QCOMPARE(m_node->promptsReceived(), 0);
}

void TestSimnodeValidation::oneGoodOutputIsEnough()
{
    const QJsonObject prompt{
        {"1", node("LoadImage", {{"image", "in.png"}})},
        {"2", node("SaveImage", {{"images", link("1")}, {"filename_prefix", "good"}})},
        {"3", node("ImageInvert", {})},
        {"4", node("PreviewImage", {{"images", link("3")}})},
    };
    int status = 0;
    const QJsonObject answer = submit(prompt, &status);
    QCOMPARE(status, 200);
    const QJsonObject errors = answer.value("node_errors").toObject();
    QCOMPARE(errors.keys(), QStringList{QStringLiteral("3")});
    QCOMPARE(firstError(answer, QStringLiteral("3")).value("type").toString(),
             QStringLiteral("required_input_missing"));
    QSignalSpy finished(m_node.get(), &simnode::SimulatedNode::promptFinished);
    QVERIFY(finished.wait(10000));
    const QString id = answer.value("prompt_id").toString();
    const QJsonArray item = m_http->get(QStringLiteral("/history/") + id)
                                .json()
                                .toObject()
                                .value(id)
                                .toObject()
                                .value("prompt")
                                .toArray();
    QCOMPARE(jsonText(item.at(4)), QStringLiteral(R"(["2"])")); // only the good output ran
}

void TestSimnodeValidation::valuesAreConverted()
{
    const QJsonObject prompt{
        {"1", node("LoadImage", {{"image", "in.png"}})},
        {"2", node("ImageScale", {{"image", link("1")},
                                  {"upscale_method", "nearest-exact"},
                                  {"width", "12"},
                                  {"height", 8.9},
                                  {"crop", "disabled"}})},
        {"3", node("SaveImage", {{"images", link("2")}, {"filename_prefix", 42}})},
    };
    int status = 0;
    const QJsonObject answer = submit(prompt, &status);
    QCOMPARE(status, 200);
    QSignalSpy finished(m_node.get(), &simnode::SimulatedNode::promptFinished);
    QVERIFY(finished.wait(10000));
    const QString id = answer.value("prompt_id").toString();
    const QJsonObject entry =
        m_http->get(QStringLiteral("/history/") + id).json().toObject().value(id).toObject();
    const QJsonObject inputs = entry.value("prompt")
                                   .toArray()
                                   .at(2)
                                   .toObject()
                                   .value("2")
                                   .toObject()
                                   .value("inputs")
                                   .toObject();
    QCOMPARE(jsonText(inputs.value("width")), QStringLiteral("12"));
    QCOMPARE(jsonText(inputs.value("height")), QStringLiteral("8"));
    QCOMPARE(
        jsonText(entry.value("outputs")),
        QStringLiteral(
            R"({"3":{"images":[{"filename":"42_00001_.png","subfolder":"","type":"output"}]}})"));
    const HttpResponse view = m_http->get(QStringLiteral("/view?filename=42_00001_.png"));
    QCOMPARE(QImage::fromData(view.body).size(), QSize(12, 8));
}

void TestSimnodeValidation::noPromptAndBadJson()
{
    const HttpResponse none = m_http->postJson(QStringLiteral("/prompt"), {{"client_id", "x"}});
    QCOMPARE(none.status, 400);
    QCOMPARE(jsonText(none.json()), QStringLiteral(R"({"error":"no prompt","node_errors":[]})"));
    const HttpResponse bad =
        m_http->request("POST", QStringLiteral("/prompt"), "{\"prompt\": ", "application/json");
    QCOMPARE(bad.status, 500);
    QCOMPARE(bad.headers.value("content-type"), QByteArray("text/plain; charset=utf-8"));
    QCOMPARE(bad.body, QByteArray("500 Internal Server Error\n\nServer got itself in trouble"));
    QCOMPARE(m_node->promptsReceived(), 0);
}

QTEST_GUILESS_MAIN(TestSimnodeValidation)
#include "test_simnode_validation.moc"
