/**
 * The selfie for a check-in: CameraX's front camera, a preview for the Compose screen
 * (a `PreviewView`) and one still photo as JPEG bytes. CameraX writes the photo to a
 * file so that the EXIF orientation is in it; the core applies it, scales the photo to
 * 640 px, hashes and signs it. The file is deleted as soon as it is read.
 */
package id.go.hadir.app.camera

import android.content.Context
import android.util.Size
import androidx.annotation.MainThread
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageCapture
import androidx.camera.core.ImageCaptureException
import androidx.camera.core.Preview
import androidx.camera.core.resolutionselector.ResolutionSelector
import androidx.camera.core.resolutionselector.ResolutionStrategy
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.lifecycle.awaitInstance
import androidx.camera.view.PreviewView
import androidx.lifecycle.LifecycleOwner
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withContext
import java.io.File
import java.util.concurrent.Executor
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException

/**
 * About 1.2 MP is plenty: the core keeps 640 px on the long edge, and a smaller photo
 * is decoded several times faster on a cheap phone.
 */
private val SELFIE_SIZE = Size(1280, 960)

/**
 * The front camera bound to a screen's lifecycle. [bind] on the main thread when the
 * screen shows, then [capture] for each photo; CameraX releases the camera when the
 * lifecycle stops.
 */
class SelfieCamera(context: Context) {
    private val context: Context = context.applicationContext

    /** Where the photo being taken is written (cache: never backed up). */
    private val photoDir = File(this.context.cacheDir, "selfie")

    private val preview: Preview = Preview.Builder().build()

    private val imageCapture: ImageCapture = ImageCapture.Builder()
        .setCaptureMode(ImageCapture.CAPTURE_MODE_MINIMIZE_LATENCY)
        .setResolutionSelector(
            ResolutionSelector.Builder()
                .setResolutionStrategy(
                    ResolutionStrategy(SELFIE_SIZE, ResolutionStrategy.FALLBACK_RULE_CLOSEST_HIGHER_THEN_LOWER),
                )
                .build(),
        )
        .build()

    /** CameraX's callbacks only resume a coroutine: no need for another thread. */
    private val direct = Executor { it.run() }

    /** Shows the front camera in [previewView] and readies capture, for [lifecycleOwner]. */
    @MainThread
    suspend fun bind(lifecycleOwner: LifecycleOwner, previewView: PreviewView) {
        val provider = ProcessCameraProvider.awaitInstance(context)
        preview.setSurfaceProvider(previewView.surfaceProvider)
        provider.unbindAll()
        provider.bindToLifecycle(lifecycleOwner, CameraSelector.DEFAULT_FRONT_CAMERA, preview, imageCapture)
    }

    /**
     * Releases this screen's use cases only (the screen stops showing them while its
     * lifecycle goes on): the QR scanner's, bound by the next step, are left alone even
     * when this runs after it bound them.
     */
    @MainThread
    suspend fun unbind() {
        ProcessCameraProvider.awaitInstance(context).unbind(preview, imageCapture)
    }

    /**
     * Takes one photo and returns its JPEG bytes (with the EXIF orientation). Throws
     * [ImageCaptureException] when the camera fails (closed, busy, no storage).
     */
    suspend fun capture(): ByteArray {
        val photo = withContext(Dispatchers.IO) {
            // A photo left by a capture cancelled mid-way goes now.
            photoDir.deleteRecursively()
            photoDir.mkdirs()
            File.createTempFile("selfie-", ".jpg", photoDir)
        }
        try {
            val options = ImageCapture.OutputFileOptions.Builder(photo).build()
            suspendCancellableCoroutine<Unit> { continuation ->
                imageCapture.takePicture(
                    options,
                    direct,
                    object : ImageCapture.OnImageSavedCallback {
                        override fun onImageSaved(outputFileResults: ImageCapture.OutputFileResults) {
                            if (continuation.isActive) continuation.resume(Unit)
                        }

                        override fun onError(exception: ImageCaptureException) {
                            if (continuation.isActive) continuation.resumeWithException(exception)
                        }
                    },
                )
            }
            return withContext(Dispatchers.IO) { photo.readBytes() }
        } finally {
            // Also when the caller was cancelled: the photo must not stay behind.
            withContext(NonCancellable + Dispatchers.IO) { photo.delete() }
        }
    }
}
