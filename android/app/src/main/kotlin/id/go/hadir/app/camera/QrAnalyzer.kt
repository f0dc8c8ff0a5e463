/**
 * QR codes through the camera: the office monitor's rotating token at check-in and the
 * admin's enrollment QR. [QrAnalyzer] decodes each frame's luminance (Y) plane with
 * ZXing and reports each distinct text once; [QrScanner] binds it, with a preview, to
 * the back camera. What a text means is decided by :shell and the core.
 */
package id.go.hadir.app.camera

import android.content.Context
import android.util.Size
import androidx.annotation.MainThread
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.ImageProxy
import androidx.camera.core.Preview
import androidx.camera.core.resolutionselector.ResolutionSelector
import androidx.camera.core.resolutionselector.ResolutionStrategy
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.lifecycle.awaitInstance
import androidx.camera.view.PreviewView
import androidx.lifecycle.LifecycleOwner
import com.google.zxing.BinaryBitmap
import com.google.zxing.PlanarYUVLuminanceSource
import com.google.zxing.ReaderException
import com.google.zxing.common.HybridBinarizer
import com.google.zxing.qrcode.QRCodeReader
import java.nio.ByteBuffer
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/** 720p resolves a QR across a room and decodes in milliseconds. */
private val ANALYSIS_SIZE = Size(1280, 720)

/**
 * Decodes QR codes from YUV_420_888 frames and calls [onQr] with each text that differs
 * from the last one reported (a monitor's token rotates every 30 s: each new one is
 * reported once). Runs on the analysis executor; [onQr] is called there.
 */
class QrAnalyzer(private val onQr: (String) -> Unit) : ImageAnalysis.Analyzer {
    private val reader = QRCodeReader()
    private var lastReported: String? = null
    private var luminance = ByteArray(0)

    override fun analyze(image: ImageProxy) {
        try {
            val text = decode(image) ?: return
            if (text != lastReported) {
                lastReported = text
                onQr(text)
            }
        } finally {
            image.close()
        }
    }

    /** The QR text in [image], or null if none is readable in this frame. */
    private fun decode(image: ImageProxy): String? {
        // Plane 0 of YUV_420_888 is Y, one byte per pixel; rows may be padded.
        val plane = image.planes[0]
        val rowStride = plane.rowStride
        copyLuminance(plane.buffer, rowStride * image.height)
        val source = PlanarYUVLuminanceSource(
            luminance,
            rowStride,
            image.height,
            0,
            0,
            image.width,
            image.height,
            false,
        )
        return try {
            reader.decode(BinaryBitmap(HybridBinarizer(source))).text
        } catch (e: ReaderException) {
            null
        } finally {
            reader.reset()
        }
    }

    /**
     * Copies the Y plane into [luminance] (`size` = row stride × height bytes). The
     * buffer may stop short of the last row's padding: the rest stays zero, outside
     * the image's width.
     */
    private fun copyLuminance(buffer: ByteBuffer, size: Int) {
        if (luminance.size != size) luminance = ByteArray(size)
        buffer.rewind()
        buffer.get(luminance, 0, minOf(buffer.remaining(), size))
    }
}

/**
 * The back camera with a preview and a [QrAnalyzer], for a screen's lifecycle. Frames
 * arriving while one is decoded are dropped (`STRATEGY_KEEP_ONLY_LATEST`), so decoding
 * never falls behind the camera.
 */
class QrScanner(context: Context) {
    private val context: Context = context.applicationContext
    private var analysisThread: ExecutorService? = null
    /** The use cases [bind] bound, for [unbind]. */
    private var bound: List<androidx.camera.core.UseCase> = emptyList()

    /** Shows the back camera in [previewView]; [onQr] gets each new text (analysis thread). */
    @MainThread
    suspend fun bind(lifecycleOwner: LifecycleOwner, previewView: PreviewView, onQr: (String) -> Unit) {
        val provider = ProcessCameraProvider.awaitInstance(context)
        val preview = Preview.Builder().build().also { it.setSurfaceProvider(previewView.surfaceProvider) }
        val thread = Executors.newSingleThreadExecutor()
        analysisThread?.shutdown()
        analysisThread = thread
        val analysis = ImageAnalysis.Builder()
            .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
            .setResolutionSelector(
                ResolutionSelector.Builder()
                    .setResolutionStrategy(
                        ResolutionStrategy(ANALYSIS_SIZE, ResolutionStrategy.FALLBACK_RULE_CLOSEST_HIGHER_THEN_LOWER),
                    )
                    .build(),
            )
            .build()
            .also { it.setAnalyzer(thread, QrAnalyzer(onQr)) }
        provider.unbindAll()
        provider.bindToLifecycle(lifecycleOwner, CameraSelector.DEFAULT_BACK_CAMERA, preview, analysis)
        bound = listOf(preview, analysis)
    }

    /**
     * Stops this scanner's use cases and its analysis thread (the screen is leaving);
     * the selfie camera the next step binds is left alone even when this runs after.
     */
    @MainThread
    suspend fun unbind() {
        ProcessCameraProvider.awaitInstance(context).unbind(*bound.toTypedArray())
        bound = emptyList()
        analysisThread?.shutdown()
        analysisThread = null
    }
}
